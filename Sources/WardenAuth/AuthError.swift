/// An error from a use case: a refusal the caller can act on. Messages are safe to show; the audit log
/// gets the precise reason.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No valid credentials (token, session, account state).
        public static let unauthorized = Code("auth.unauthorized")
        /// Authenticated, but not allowed.
        public static let forbidden = Code("auth.forbidden")
        /// The change needs the password or a current factor, given in the same request.
        public static let reauthenticationRequired = Code("auth.reauthentication_required")
        /// Too many attempts; `retryAfter` says when to try again.
        public static let rateLimited = Code("auth.rate_limited")
        /// The request itself is wrong (an unknown role, a missing field).
        public static let invalidRequest = Code("auth.invalid_request")
        /// The change would leave Warden without an administrator, or conflicts with the current state.
        public static let conflict = Code("auth.conflict")
        public static let notFound = Code("auth.not_found")
    }

    public let code: Code
    public let message: String
    /// Seconds until a rate-limited caller may try again.
    public let retryAfter: Double?

    public init(_ code: Code, _ message: String, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    public static let unauthorized = AuthError(.unauthorized, "a valid access token is required")
    public static let forbidden = AuthError(.forbidden, "this account may not do that")
    public static let notFound = AuthError(.notFound, "no such resource")
}
