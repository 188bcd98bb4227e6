public import SQLKit

/// The two SQL databases Warden runs on.
public enum SQLDialectKind: String, Sendable {
    /// The embedded default: a file in the data directory.
    case sqlite
    /// Production: shared by any number of nodes.
    case postgres
}

/// A database Warden can run statements on, one connection at a time.
///
/// The store code above this protocol is written once, against `SQLKit`'s `SQLDatabase`, for both
/// databases; the few dialect differences (row locks, advisory locks, how a write transaction starts)
/// are switched on ``kind``.
public protocol SQLBackend: Sendable {
    var kind: SQLDialectKind { get }

    /// Runs `body` on one connection, outside a transaction (single statements, reads).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in a write transaction on one connection: committed if `body` returns, rolled back if
    /// it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Closes the connections.
    func close() async throws
}

extension SQLDialectKind {
    /// The suffix that locks the selected rows until the transaction ends (PostgreSQL); SQLite's write
    /// transactions (`BEGIN IMMEDIATE`) already exclude every other writer.
    var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
}

/// Transaction-scoped locks that serialise one kind of writer across every node.
enum WriterLock: Int64 {
    case migrations = 0x5741_5244_0001
    case keyring = 0x5741_5244_0002
    case audit = 0x5741_5244_0003
    case signingKeys = 0x5741_5244_0004

    /// Takes the lock for the rest of the transaction on PostgreSQL (`pg_advisory_xact_lock`). A row lock
    /// cannot do this where the row may not exist yet (the first keyring, the first audit entry). On
    /// SQLite the write transaction itself excludes every other writer.
    func acquire(on database: any SQLDatabase, kind: SQLDialectKind) async throws {
        guard kind == .postgres else { return }
        try await database.raw("SELECT pg_advisory_xact_lock(\(bind: rawValue))").run()
    }

    /// Takes a lock on one account's sessions for the rest of the transaction (PostgreSQL), so the session
    /// limit holds under concurrent logins.
    static func sessions(of accountID: String, on database: any SQLDatabase, kind: SQLDialectKind) async throws {
        guard kind == .postgres else { return }
        try await database.raw("SELECT pg_advisory_xact_lock(4, hashtext(\(bind: accountID)))").run()
    }

    /// Takes a lock on one account's MFA state for the rest of the transaction (PostgreSQL): its row may
    /// not exist yet, so a row lock cannot serialise the first writers.
    static func mfa(of accountID: String, on database: any SQLDatabase, kind: SQLDialectKind) async throws {
        guard kind == .postgres else { return }
        try await database.raw("SELECT pg_advisory_xact_lock(5, hashtext(\(bind: accountID)))").run()
    }
}
