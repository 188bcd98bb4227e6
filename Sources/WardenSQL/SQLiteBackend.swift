import Foundation
public import SQLiteKit
import Synchronization
import WardenCore

/// SQLite through one connection, serialised by a lock; other connections (other processes) wait on
/// SQLite's own locking (`busy_timeout`, and a write transaction retries for up to two minutes). WAL
/// journal, `synchronous=FULL`, foreign keys on.
///
/// Each backend runs its connection on a thread of its own: SQLite's busy wait blocks the calling
/// thread, and on a shared pool two connections of one process could block every thread while the
/// lock holder waits for one.
public final class SQLiteBackend: SQLBackend {
    public var kind: SQLDialectKind { .sqlite }
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let mutex = AsyncMutex()
    private let closed = Mutex(false)

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool) {
        self.connection = connection
        self.threadPool = threadPool
    }

    deinit {
        // A backend dropped without close(): close the connection in the background (the close work
        // keeps the connection alive until it is done) rather than leak the file handle.
        if !closed.withLock({ $0 }) {
            let threadPool = threadPool
            connection.close().whenComplete { _ in threadPool.shutdownGracefully { _ in } }
        }
    }

    /// Opens (creating if needed, with mode 0600) the database file at `path`.
    public static func open(path: String) async throws -> SQLiteBackend {
        do {
            try SecureFile.createPrivateDirectory(SecureFileHelpers.parent(of: path))
            try SecureFile.createExclusively(path, bytes: [UInt8](), mode: 0o600)
        } catch {
            throw SQLStoreError(.unavailable, "cannot create the database file: \(error.message)")
        }
        return try await open(storage: .file(path: path))
    }

    /// Opens an existing database file that belongs to another application (`warden migrate`), as it is:
    /// its journal mode and other settings are left alone, and nothing is created.
    ///
    /// - Parameter readOnly: Open with `mode=ro` (sources that are only read).
    public static func openExisting(path: String, readOnly: Bool) async throws -> SQLiteBackend {
        guard SecureFile.exists(path) else { throw SQLStoreError(.unavailable, "no SQLite database at \(path)") }
        var escaped = ""
        for scalar in path.unicodeScalars {
            switch scalar {
            case "%", "?", "#": escaped += String(format: "%%%02X", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        let uri = "file:\(escaped)?mode=\(readOnly ? "ro" : "rw")"
        return try await open(storage: .file(path: uri), pragmas: ["PRAGMA busy_timeout=10000", "PRAGMA temp_store=MEMORY"])
    }

    /// Opens a private in-memory database (tests).
    public static func inMemory() async throws -> SQLiteBackend {
        try await open(storage: .memory)
    }

    private static let ownPragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000", "PRAGMA foreign_keys=ON"]

    private static func open(storage: SQLiteConnection.Storage, pragmas: [String] = ownPragmas) async throws -> SQLiteBackend {
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        do {
            let connection = try await SQLiteConnection.open(
                storage: storage, threadPool: threadPool, logger: DriverLogger.make(label: "warden.sqlite"), on: MultiThreadedEventLoopGroup.singleton.any())
            let backend = SQLiteBackend(connection: connection, threadPool: threadPool)
            let database = Self.sql(connection)
            for pragma in pragmas {
                try await database.raw(SQLQueryString(pragma)).run()
            }
            return backend
        } catch {
            try? await threadPool.shutdownGracefully()
            throw error
        }
    }

    /// SQLKit over the connection, without its per-query log line (which lists the bound values).
    private static func sql(_ connection: SQLiteConnection) -> any SQLDatabase {
        connection.sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await mutex.withLock { try await body(Self.sql(connection)) }
    }

    /// How long a transaction waits in all for another process's write lock (each attempt waits up to
    /// `busy_timeout`, 10 s, inside SQLite). Several nodes starting at once on one file, or a command run
    /// beside a busy server on a loaded machine, wait their turn rather than fail.
    static let writeLockPatience: Duration = .seconds(120)

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await connectionTransaction { try await body(Self.sql($0)) }
    }

    /// Runs `body` on the connection itself, outside a transaction: for bulk readers that bind and decode
    /// `SQLiteData` directly (SQLKit's `Codable` binding costs microseconds per value).
    public func withSQLiteConnection<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await mutex.withLock { try await body(connection) }
    }

    /// Like ``transaction(_:)``, on the connection itself.
    public func connectionTransaction<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await mutex.withLock {
            // BEGIN IMMEDIATE takes the write lock before anything is done, so retrying it is safe.
            let clock = ContinuousClock()
            let deadline = clock.now + Self.writeLockPatience
            while true {
                do {
                    _ = try await connection.query("BEGIN IMMEDIATE")
                    break
                } catch let error as SQLiteError where error.reason == .busy && clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                } catch let error as SQLiteError where error.reason == .busy {
                    throw SQLStoreError(.unavailable, "the SQLite database stayed locked by another process for \(Self.writeLockPatience)")
                }
            }
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT")
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async throws {
        guard
            closed.withLock({ state in
                defer { state = true }
                return !state
            })
        else { return }
        try await connection.close()
        try await threadPool.shutdownGracefully()
    }
}

enum SecureFileHelpers {
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
