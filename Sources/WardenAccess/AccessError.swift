/// An error from accounts, passwords or access control. Messages are safe to show: they never contain
/// a password, and login failures never say which check failed.
public struct AccessError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Unknown user, wrong password, disabled or locked account: deliberately one code.
        public static let invalidCredentials = Code("access.invalid_credentials")
        public static let usernameTaken = Code("access.username_taken")
        public static let invalidUsername = Code("access.invalid_username")
        public static let invalidContact = Code("access.invalid_contact")
        public static let weakPassword = Code("access.weak_password")
        public static let accountNotFound = Code("access.account_not_found")
        public static let roleNotFound = Code("access.role_not_found")
        public static let invalidRole = Code("access.invalid_role")
        public static let invalidPermission = Code("access.invalid_permission")
        public static let storeFailure = Code("access.store_failure")
    }

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
