/// An error from the SQL stores. Messages never contain connection passwords or stored secrets.
public struct SQLStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The database cannot be reached or used.
        public static let unavailable = Code("sql.unavailable")
        /// The database URL or options are wrong.
        public static let invalidConfiguration = Code("sql.invalid_configuration")
        /// The database's schema is newer than this Warden.
        public static let schemaTooNew = Code("sql.schema_too_new")
        /// Stored data could not be read back.
        public static let corrupt = Code("sql.corrupt")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
