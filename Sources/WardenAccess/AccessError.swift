public import WardenCore

/// An error from accounts, passwords or access control. Messages are safe to show: they never contain
/// a password, and login failures never say which check failed.
public struct AccessError: Error, Sendable, CustomStringConvertible, Equatable {
    public typealias Code = ErrorCode<AccessError>

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The one error a failed login gets.
    public static let invalidCredentials = AccessError(.invalidCredentials, "invalid username or password")
}

extension ErrorCode where Domain == AccessError {
    /// Unknown user, wrong password, disabled or locked account: deliberately one code.
    public static var invalidCredentials: Self { Self("access.invalid_credentials") }
    public static var usernameTaken: Self { Self("access.username_taken") }
    public static var invalidUsername: Self { Self("access.invalid_username") }
    public static var invalidContact: Self { Self("access.invalid_contact") }
    public static var weakPassword: Self { Self("access.weak_password") }
    public static var accountNotFound: Self { Self("access.account_not_found") }
    public static var roleNotFound: Self { Self("access.role_not_found") }
    public static var invalidRole: Self { Self("access.invalid_role") }
    public static var invalidPermission: Self { Self("access.invalid_permission") }
    public static var storeFailure: Self { Self("access.store_failure") }
}
