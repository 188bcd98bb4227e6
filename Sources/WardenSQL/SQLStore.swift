public import CoreMetrics
import Foundation
import PostgresNIO
import SQLKit
import SQLiteNIO
import Synchronization
import WardenAccess
public import WardenAudit
import WardenCore

/// Warden's state in SQL: the keyring, accounts, roles and grants, and the audit log, on SQLite or
/// PostgreSQL with one implementation.
///
/// Every change to security-relevant state appends its audit events in the same transaction, so a
/// change is never committed without its record, and a failure to write the audit log fails the
/// change (fail closed).
public final class SQLStore: Sendable {
    public let backend: any SQLBackend
    let chain: AuditChain
    /// The chain this store appends with (for verification).
    public var auditChain: AuditChain { chain }
    /// The actor recorded for keyring changes (the keyring API carries no caller identity).
    let keyringActor: String
    /// The role catalog, read once: only migrations write it (a newer catalog comes with a newer binary,
    /// and so a restart), and every permission check needs it.
    let roleCatalog = Mutex<[Role]?>(nil)
    /// Round-trip latency (`warden_sql_query_duration_seconds`) by operation (``SQLOperation``).
    let timers: RoundTripTimers

    /// - Parameters:
    ///   - backend: The database.
    ///   - auditChain: Builds the audit chain (its key comes from the master key).
    ///   - keyringActor: Who keyring changes made through this store are attributed to, e.g. `cli:alice`.
    ///   - metrics: Where round trips are timed; the process-wide swift-metrics factory by default.
    public init(backend: any SQLBackend, auditChain: AuditChain, keyringActor: String, metrics: (any MetricsFactory)? = nil) {
        self.backend = backend
        chain = auditChain
        self.keyringActor = keyringActor
        timers = RoundTripTimers(name: "warden_sql_query_duration_seconds", label: "operation", factory: metrics)
    }

    /// Opens a store at `url` (`postgres://…`), or the SQLite file `sqlitePath` when `url` is nil, and
    /// applies pending migrations.
    /// - Parameter connectionWait: how long a caller waits for a pooled PostgreSQL connection before
    ///   failing with `unavailable` (`WARDEN_DATABASE_WAIT_SECONDS`).
    public static func open(
        url: String?, sqlitePath: String, auditChain: AuditChain, keyringActor: String, migrate: Bool = true, connectionWait: Duration = .seconds(10)
    ) async throws -> SQLStore {
        let backend: any SQLBackend =
            if let url {
                try await PostgresBackend.open(url: url, leaseTimeout: connectionWait)
            } else {
                try await SQLiteBackend.open(path: sqlitePath)
            }
        do {
            if migrate {
                try await Migrations.migrate(backend)
            } else {
                try await Migrations.checkCurrent(backend)
            }
        } catch {
            try? await backend.close()
            throw error
        }
        return SQLStore(backend: backend, auditChain: auditChain, keyringActor: keyringActor)
    }

    public func close() async throws {
        try await backend.close()
    }
}

// MARK: Row helpers

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func optionalInt(_ column: String) throws -> Int64? { try decode(column: column, as: Int64?.self) }
    func date(_ column: String) throws -> Date { StoredInstant(milliseconds: try int(column)).date }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map { StoredInstant(milliseconds: $0).date } }
}

extension Date {
    /// Milliseconds since 1970, as stored (``StoredInstant``, to the nearest millisecond). Bound as a
    /// plain integer: a `BIGINT` on both databases.
    var milliseconds: Int64 { StoredInstant(self).milliseconds }
}

/// Whether `error` is a unique-constraint violation, on either database.
func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
    if let error = error as? SQLiteError { return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed }
    return false
}
