import Foundation
import Synchronization
import WardenCore
import Logging
import NIOSSL
public import PostgresKit

/// PostgreSQL through PostgresNIO's connection pool (`PostgresClient`).
public final class PostgresBackend: SQLBackend {
    public var kind: SQLDialectKind { .postgres }
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger = DriverLogger.make(label: "warden.sql")
    /// How long a caller waits for a pooled connection before failing with
    /// ``SQLStoreError/Code/unavailable``.
    ///
    /// PostgresNIO's pool keeps a waiting caller until its circuit breaker trips, a minute after the server
    /// went away. A request waiting that long held `warden serve`'s graceful shutdown (which lets requests
    /// in flight finish) past its watchdog, and the reservations given back at close waited as long
    /// again; like the Redis pool, a caller now fails quickly when no connection can be had.
    let leaseTimeout: Duration

    private init(client: PostgresClient, leaseTimeout: Duration) {
        self.client = client
        self.leaseTimeout = leaseTimeout
        runner = Task { await client.run() }
    }

    /// Connects to `url`: `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    ///
    /// TLS defaults to `require` (with full certificate and host-name verification) unless the host is the
    /// loopback address, where it defaults to `prefer`. `maxConnections` bounds the pool.
    public static func connect(url: String, maxConnections: Int = 10, leaseTimeout: Duration = .seconds(2)) throws -> PostgresBackend {
        let target = try DatabaseURL(url)
        let tls: PostgresClient.Configuration.TLS = switch target.tlsMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.username, password: target.password,
            database: target.database, tls: tls)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        return PostgresBackend(client: PostgresClient(configuration: configuration), leaseTimeout: leaseTimeout)
    }

    public func withConnection<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await leased { connected in
            try await client.withConnection { connection in
                connected()
                return try await body(connection.sql(queryLogLevel: nil))
            }
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await leased { connected in
                try await client.withTransaction(logger: logger) { connection in
                    connected()
                    return try await body(connection.sql(queryLogLevel: nil))
                }
            }
        } catch let error as PostgresTransactionError {
            // Callers see what went wrong, not the wrapper.
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs `body` on a pooled connection itself: for bulk readers and writers that bind and decode
    /// PostgreSQL's own values (SQLKit's `Codable` layer costs microseconds per value).
    public func withPostgresConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await leased { connected in
            try await client.withConnection { connection in
                connected()
                return try await body(connection)
            }
        }
    }

    /// Like ``transaction(_:)``, on the connection itself.
    public func connectionTransaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased { connected in
                try await client.withTransaction(logger: logger) { connection in
                    connected()
                    return try await body(connection)
                }
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs `lease` (which calls `connected` once it holds a connection), failing with
    /// ``SQLStoreError/Code/unavailable`` — and cancelling the wait — if it holds none within
    /// ``leaseTimeout``. The work done on the connection is not limited.
    private func leased<T: Sendable>(_ lease: @Sendable (_ connected: @escaping @Sendable () -> Void) async throws -> T) async throws -> T {
        let held = LeaseFlag()
        let timeout = leaseTimeout
        return try await withoutActuallyEscaping(lease) { lease in
            try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
                group.addTask { .value(try await lease { held.set() }) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    guard held.isSet else { throw SQLStoreError(.unavailable, "no PostgreSQL connection became available in time") }
                    return .leasedInTime
                }
                while let outcome = try await group.next() {
                    if case .value(let value) = outcome {
                        group.cancelAll()
                        return value
                    }
                }
                throw SQLStoreError(.unavailable, "the PostgreSQL lease ended without a result")
            }
        }
    }

    /// Stops the pool. Its connections are closed gracefully; one stuck on a server that went away (a
    /// dropped database, a dead host) is given five seconds, then left behind, so a process can exit.
    public func close() async throws {
        runner.cancel()
        let runner = runner
        if await !finishes(within: .seconds(5), { _ = await runner.value }) {
            logger.warning("the PostgreSQL pool did not close within 5 s; leaving it")
        }
    }
}

/// Whether a caller of ``PostgresBackend`` holds its connection yet.
private final class LeaseFlag: Sendable {
    private let held = Atomic(false)
    var isSet: Bool { held.load(ordering: .acquiring) }
    func set() { held.store(true, ordering: .releasing) }
}

private enum LeaseOutcome<T: Sendable>: Sendable {
    case value(T)
    case leasedInTime
}

/// A `postgres://` URL, parsed.
struct DatabaseURL: Sendable {
    enum TLSMode: String, Sendable { case disable, prefer, require }

    let host: String
    let port: Int
    let username: String
    let password: String?
    let database: String?
    let tlsMode: TLSMode

    init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              ["postgres", "postgresql"].contains(components.scheme?.lowercased() ?? ""),
              let host = components.host, !host.isEmpty,
              let username = components.user, !username.isEmpty
        else {
            // The URL may hold a password: never repeat it.
            throw SQLStoreError(.invalidConfiguration, "WARDEN_DATABASE_URL must look like postgres://user:password@host:port/database")
        }
        self.host = host
        port = components.port ?? 5432
        self.username = username
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        let isLoopback = ["localhost", "127.0.0.1", "::1"].contains(host)
        let requested = components.queryItems?.last { ["sslmode", "tlsmode", "ssl", "tls"].contains($0.name) }?.value
        switch requested {
        case nil: tlsMode = isLoopback ? .prefer : .require
        case "disable", "false": tlsMode = .disable
        case "prefer", "allow", "true": tlsMode = .prefer
        case "require", "verify-ca", "verify-full": tlsMode = .require
        default: throw SQLStoreError(.invalidConfiguration, "unknown sslmode in WARDEN_DATABASE_URL (use disable, prefer or require)")
        }
    }
}
