public import WardenCore

/// Appends events to the audit log.
///
/// Stores that change security-relevant state take the events describing the change and append them
/// in the same transaction, so a change is never made without its record (fail closed).
public protocol AuditAppender: Sendable {
    /// Appends `events` to the chain, atomically.
    ///
    /// - Throws: when the log cannot be written; nothing is appended then.
    func append(_ events: [AuditEvent]) async throws
}

/// Reads the audit log.
public protocol AuditLogReader: Sendable {
    /// The chain's head, or `nil` for an empty log.
    func head() async throws -> AuditHead?
    /// Up to `limit` entries with sequence numbers greater than `sequence`, ascending. Entries are returned
    /// as stored; the reader does not check them.
    func entries(after sequence: Int64, limit: Int) async throws -> [AuditEntry]
    /// The last `limit` entries, ascending.
    func latest(limit: Int) async throws -> [AuditEntry]
}

/// An error from the audit log.
public struct AuditError: Error, Sendable, CustomStringConvertible, Equatable {
    public typealias Code = ErrorCode<AuditError>

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension ErrorCode where Domain == AuditError {
    /// The log could not be written; the action it would have recorded did not happen.
    public static var unavailable: Self { Self("audit.unavailable") }
}
