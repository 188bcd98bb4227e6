import Crypto
public import Foundation
import JWTKit
import Synchronization
public import WardenCore

/// Issues and verifies Warden's JWTs (EdDSA / Ed25519).
///
/// Verification, in order: the size cap; three segments of strict unpadded base64url; a header whose `alg`
/// is exactly `EdDSA`, whose `kid` names a key Warden holds (an unknown `kid` is rejected, never verified
/// with some default key), and that carries no embedded or remote key (`jwk`, `jku`, `x5c`, `x5u`) and no
/// `crit`; the signature with that key; then every claim: issuer, audience, token use, expiry, not-before
/// and issued-at with at most 60 s of leeway, and a lifetime no longer than Warden issues.
///
/// - Important: Every failure is the one ``SessionError/invalidToken``; nothing says which check failed.
public final class TokenService: Sendable {
    public struct Configuration: Sendable {
        public var issuer = "warden"
        public var audience = "warden"
        /// Clock skew allowed on `exp`, `nbf` and `iat` (at most 60 s).
        public var leeway: TimeInterval = 60
        /// Longer tokens are refused before any parsing.
        public var maximumTokenBytes = 4096
        /// How many tokens whose signature has verified are remembered, so a client reusing its access
        /// token is not charged an Ed25519 verification (~0.1 ms here) on every request. A hit must match
        /// the whole token exactly and its key must still be held; the claims and the session are still
        /// checked every time. `0` turns the cache off.
        public var verifiedTokenCacheSize = 16_384
        public init() {}
    }

    public let keys: TokenKeys
    let configuration: Configuration
    private let verified: VerifiedTokenCache
    let policy: SessionPolicy
    let clock: any WallClock

    public init(keys: TokenKeys, configuration: Configuration = Configuration(), policy: SessionPolicy = SessionPolicy(), clock: any WallClock = SystemWallClock()) {
        precondition(configuration.leeway <= 60, "at most 60 s of leeway")
        self.keys = keys
        self.configuration = configuration
        verified = VerifiedTokenCache(capacity: configuration.verifiedTokenCacheSize)
        self.policy = policy
        self.clock = clock
    }

    /// Signs a token of `use` for the session.
    public func issue(_ use: TokenClaims.Use, accountID: UUID, sessionID: String, tokenID: String, level: AuthenticationLevel, now: Date) async throws -> String {
        let issued = Int64(now.timeIntervalSince1970.rounded(.down))
        let lifetime = use == .access ? policy.accessTokenLifetime : policy.refreshTokenLifetime
        let claims = TokenClaims(
            iss: configuration.issuer, aud: configuration.audience, sub: accountID.lowercasedText, sid: sessionID,
            jti: tokenID, iat: issued, nbf: issued, exp: issued + Int64(lifetime), tokenUse: use, acr: level == .passkey ? "phr" : level == .multiFactor ? "mfa" : "pwd")
        guard let kid = await keys.signingKID else { throw SessionError(.unavailable, "no signing key is loaded") }
        var header = JWTHeader()
        header.typ = "JWT"
        return try await keys.collection.sign(claims, kid: JWKIdentifier(string: kid), header: header)
    }

    /// Verifies a token of `use` and returns its claims.
    ///
    /// - Throws: ``SessionError/invalidToken`` for any problem.
    public func verify(_ token: String, as use: TokenClaims.Use) async throws -> TokenClaims {
        guard token.utf8.count <= configuration.maximumTokenBytes else { throw SessionError.invalidToken }
        let claims: TokenClaims
        if let remembered = verified.claims(for: token), keys.verifier(remembered.kid) != nil {
            // This exact token verified before, and its key is still held.
            claims = remembered.claims
        } else {
            claims = try await verifySignature(token)
        }
        let now = clock.now().timeIntervalSince1970
        let leeway = configuration.leeway
        let lifetime = use == .access ? policy.accessTokenLifetime : policy.refreshTokenLifetime
        guard claims.iss == configuration.issuer, claims.aud == configuration.audience, claims.tokenUse == use,
            Double(claims.exp) > now - leeway, Double(claims.nbf) <= now + leeway, Double(claims.iat) <= now + leeway,
            claims.exp > claims.iat, Double(claims.exp - claims.iat) <= lifetime,
            UUID(text: claims.sub) != nil, !claims.sid.isEmpty, !claims.jti.isEmpty
        else { throw SessionError.invalidToken }
        return claims
    }

    /// The strict header checks and the signature, with the key the `kid` names and nothing else, before
    /// any claim is read. (Signing goes through jwt-kit; verifying is done here so it needs no actor and
    /// runs in parallel.)
    private func verifySignature(_ token: String) async throws -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = Base64.decode(parts[0], alphabet: .url, padding: .forbidden),
            let payloadBytes = Base64.decode(parts[1], alphabet: .url, padding: .forbidden),
            let signature = Base64.decode(parts[2], alphabet: .url, padding: .forbidden), signature.count == 64,
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            header["alg"] as? String == "EdDSA",
            let kid = header["kid"] as? String,
            (header["typ"] as? String).map({ $0 == "JWT" }) ?? true,
            Set(header.keys).isSubset(of: ["alg", "kid", "typ"])
        else { throw SessionError.invalidToken }
        var verifier = keys.verifier(kid)
        if verifier == nil {
            // Perhaps another node rotated a moment ago; look once, rate-limited. Counted only when the
            // re-read finds it (a made-up kid is not a key met before it was loaded).
            try? await keys.refreshIfStale()
            verifier = keys.verifier(kid)
            if verifier != nil { keys.countUnknownKID() }
        }
        let signed = token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)
        guard let verifier, verifier.isValidSignature(signature, for: Array(signed)),
            let claims = try? JSONDecoder().decode(TokenClaims.self, from: Data(payloadBytes))
        else { throw SessionError.invalidToken }
        verified.remember(token, kid: kid, claims: claims)
        return claims
    }
}

/// Tokens whose signature verified, by their exact text: two generations, so memory stays bounded
/// without per-entry bookkeeping (an entry not used for a whole generation is forgotten).
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let kid: String
        let claims: TokenClaims
    }

    private struct Generations {
        var current: [String: Entry] = [:]
        var previous: [String: Entry] = [:]
    }

    private let capacity: Int
    private let generations = Mutex(Generations())

    init(capacity: Int) {
        self.capacity = capacity
    }

    func claims(for token: String) -> Entry? {
        guard capacity > 0 else { return nil }
        return generations.withLock { state in
            if let entry = state.current[token] { return entry }
            guard let entry = state.previous[token] else { return nil }
            Self.insert(token, entry, into: &state, capacity: capacity)
            return entry
        }
    }

    func remember(_ token: String, kid: String, claims: TokenClaims) {
        guard capacity > 0 else { return }
        generations.withLock { Self.insert(token, Entry(kid: kid, claims: claims), into: &$0, capacity: capacity) }
    }

    private static func insert(_ token: String, _ entry: Entry, into state: inout Generations, capacity: Int) {
        if state.current.count >= max(1, capacity / 2) {
            state.previous = state.current
            state.current = [:]
        }
        state.current[token] = entry
    }
}
