public import WardenCore

/// An error from a use case: a refusal the caller can act on. Messages are safe to show; the audit log
/// gets the precise reason.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public typealias Code = ErrorCode<AuthError>

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

extension ErrorCode where Domain == AuthError {
    /// No valid credentials (token, session, account state).
    public static var unauthorized: Self { Self("auth.unauthorized") }
    /// Authenticated, but not allowed.
    public static var forbidden: Self { Self("auth.forbidden") }
    /// The change needs the password or a current factor, given in the same request.
    public static var reauthenticationRequired: Self { Self("auth.reauthentication_required") }
    /// Too many attempts; `retryAfter` says when to try again.
    public static var rateLimited: Self { Self("auth.rate_limited") }
    /// The request itself is wrong (an unknown role, a missing field).
    public static var invalidRequest: Self { Self("auth.invalid_request") }
    /// The change would leave Warden without an administrator, or conflicts with the current state.
    public static var conflict: Self { Self("auth.conflict") }
    public static var notFound: Self { Self("auth.not_found") }
}
