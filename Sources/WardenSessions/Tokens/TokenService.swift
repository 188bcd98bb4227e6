public import Foundation
import JWTKit
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
        public init() {}
    }

    public let keys: TokenKeys
    let configuration: Configuration
    let policy: SessionPolicy
    let clock: any WallClock

    public init(keys: TokenKeys, configuration: Configuration = Configuration(), policy: SessionPolicy = SessionPolicy(), clock: any WallClock = SystemWallClock()) {
        precondition(configuration.leeway <= 60, "at most 60 s of leeway")
        self.keys = keys
        self.configuration = configuration
        self.policy = policy
        self.clock = clock
    }

    /// Signs a token of `use` for the session.
    public func issue(_ use: TokenClaims.Use, accountID: UUID, sessionID: String, tokenID: String, level: AuthenticationLevel, now: Date) async throws -> String {
        let issued = Int64(now.timeIntervalSince1970.rounded(.down))
        let lifetime = use == .access ? policy.accessTokenLifetime : policy.refreshTokenLifetime
        let claims = TokenClaims(
            iss: configuration.issuer, aud: configuration.audience, sub: accountID.uuidString.lowercased(), sid: sessionID,
            jti: tokenID, iat: issued, nbf: issued, exp: issued + Int64(lifetime), tokenUse: use, acr: level == .multiFactor ? "mfa" : "pwd")
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
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64.decode(parts[0], alphabet: .url, padding: .forbidden),
              Base64.decode(parts[1], alphabet: .url, padding: .forbidden) != nil,
              let signature = Base64.decode(parts[2], alphabet: .url, padding: .forbidden), signature.count == 64,
              let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
              header["alg"] as? String == "EdDSA",
              let kid = header["kid"] as? String,
              (header["typ"] as? String).map({ $0 == "JWT" }) ?? true,
              Set(header.keys).isSubset(of: ["alg", "kid", "typ"])
        else { throw SessionError.invalidToken }
        if await !keys.isKnown(kid) {
            // Perhaps another node rotated a moment ago; look once, rate-limited.
            try? await keys.refreshIfStale()
            guard await keys.isKnown(kid) else { throw SessionError.invalidToken }
        }
        let claims: TokenClaims
        do {
            claims = try await keys.collection.verify(token, as: TokenClaims.self)
        } catch {
            throw SessionError.invalidToken
        }
        let now = clock.now().timeIntervalSince1970
        let leeway = configuration.leeway
        let lifetime = use == .access ? policy.accessTokenLifetime : policy.refreshTokenLifetime
        guard claims.iss == configuration.issuer, claims.aud == configuration.audience, claims.tokenUse == use,
              Double(claims.exp) > now - leeway, Double(claims.nbf) <= now + leeway, Double(claims.iat) <= now + leeway,
              claims.exp > claims.iat, Double(claims.exp - claims.iat) <= lifetime,
              UUID(uuidString: claims.sub) != nil, !claims.sid.isEmpty, !claims.jti.isEmpty
        else { throw SessionError.invalidToken }
        return claims
    }
}
