public import JWTKit

/// The claims of every token Warden issues.
///
/// `iat`, `nbf` and `exp` are whole seconds since 1970. `token_use` says which kind a token is, so an
/// access token can never be presented as a refresh token or the other way round; `acr` says how the
/// session was authenticated (`pwd` or `mfa`).
public struct TokenClaims: JWTPayload, Equatable, Sendable {
    public enum Use: String, Codable, Sendable {
        case access
        case refresh
    }

    public let iss: String
    public let aud: String
    public let sub: String
    public let sid: String
    public let jti: String
    public let iat: Int64
    public let nbf: Int64
    public let exp: Int64
    public let tokenUse: Use
    public let acr: String

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, sid, jti, iat, nbf, exp, acr
        case tokenUse = "token_use"
    }

    /// Claims are checked by ``TokenService`` with its own clock and configuration, after the signature.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
