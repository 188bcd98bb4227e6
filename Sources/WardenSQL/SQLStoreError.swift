public import WardenCore

/// An error from the SQL stores. Messages never contain connection passwords or stored secrets.
public struct SQLStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    public typealias Code = ErrorCode<SQLStoreError>

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == SQLStoreError {
    /// The database cannot be reached or used.
    public static var unavailable: Self { Self("sql.unavailable") }
    /// The database URL or options are wrong.
    public static var invalidConfiguration: Self { Self("sql.invalid_configuration") }
    /// The database's schema is newer than this Warden.
    public static var schemaTooNew: Self { Self("sql.schema_too_new") }
    /// Stored data could not be read back.
    public static var corrupt: Self { Self("sql.corrupt") }
}
