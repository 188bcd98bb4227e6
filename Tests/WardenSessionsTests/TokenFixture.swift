import Foundation
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSessions

/// Tokens over in-memory keys, with a manual clock.
struct TokenFixture {
    let clock: ManualWallClock
    let cipher: FieldCipher
    let keyStore: MemorySigningKeyStore
    let keys: TokenKeys
    let tokens: TokenService
    var policy: SessionPolicy

    /// - Parameter verifyingAt: The clock the token service issues and verifies by, when not `clock`: a
    ///   `SessionService` on the system clock issues its tokens by its own time, so its verifier must read
    ///   the same (on a frozen clock, a test that ran for more than the 60 s leeway once found its tokens
    ///   issued in the future).
    static func make(
        policy: SessionPolicy = SessionPolicy(), keyStore: MemorySigningKeyStore = MemorySigningKeyStore(),
        keyring: MemoryKeyringStore = MemoryKeyringStore(), clock: ManualWallClock = ManualWallClock(Date()), verifyingAt: (any WallClock)? = nil
    ) async throws -> TokenFixture {
        let cipher = try await FieldCipher.load(store: keyring, masterKey: SessionBackend.masterKey, clock: clock)
        let keys = TokenKeys(store: keyStore, cipher: cipher, overlap: policy.refreshTokenLifetime, clock: clock)
        try await keys.load()
        return TokenFixture(clock: clock, cipher: cipher, keyStore: keyStore, keys: keys, tokens: TokenService(keys: keys, policy: policy, clock: verifyingAt ?? clock), policy: policy)
    }

    func issue(_ use: TokenClaims.Use = .access, account: UUID = UUID()) async throws -> String {
        try await tokens.issue(use, accountID: account, sessionID: SessionID.make(), tokenID: SessionID.make(), level: .password, now: clock.now())
    }
}

/// Builds JWTs by hand, for the attacks the verifier must refuse.
enum ForgedToken {
    static func segment(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Base64.encode(Array(data), alphabet: .url, padded: false)
    }

    static func parts(_ token: String) -> (header: [String: Any], payload: [String: Any], signature: String) {
        let pieces = token.split(separator: ".").map(String.init)
        func decode(_ text: String) -> [String: Any] {
            try! JSONSerialization.jsonObject(with: Data(Base64.decode(text, alphabet: .url, padding: .forbidden)!)) as! [String: Any]
        }
        return (decode(pieces[0]), decode(pieces[1]), pieces[2])
    }
}
