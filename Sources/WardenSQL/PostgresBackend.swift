import Foundation
import Logging
import NIOSSL
public import PostgresKit
import Synchronization
import WardenCore

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

    private let target: DatabaseURL
    /// The URL's TLS settings with their files read (nil: `sslmode=disable`), for ``checkConnection()``.
    private let tlsConfiguration: TLSConfiguration?

    private init(client: PostgresClient, target: DatabaseURL, tlsConfiguration: TLSConfiguration?, leaseTimeout: Duration) {
        self.client = client
        self.leaseTimeout = leaseTimeout
        self.target = target
        self.tlsConfiguration = tlsConfiguration
        runner = Task { await client.run() }
    }

    /// A pool for `url` (`postgres://user:password@host:port/database?sslmode=…`); it connects when first
    /// used. ``open(url:maxConnections:)`` also checks that a connection can be made.
    ///
    /// The URL's TLS settings are described in ``DatabaseURL``: `sslmode` (`disable`, `prefer`, `require`,
    /// `verify-ca`, `verify-full`), `sslrootcert`, `sslcert` and `sslkey`. `maxConnections` bounds the pool.
    ///
    /// - Important: Every mode that encrypts verifies the server's certificate chain, and all but
    ///   `verify-ca` its host name; `require` is as strict as `verify-full` (libpq's is not). Without
    ///   `sslmode`, TLS is required off the loopback address.
    /// - Throws: `SQLStoreError.Code.invalidConfiguration` for a malformed URL or a certificate file that
    ///   cannot be used; the message names the setting and never the password.
    public static func connect(url: String, maxConnections: Int = 10, leaseTimeout: Duration = .seconds(10)) throws -> PostgresBackend {
        let target = try DatabaseURL(url)
        let tlsConfiguration = try target.tlsConfiguration()
        let tls: PostgresClient.Configuration.TLS =
            switch (target.tlsMode, tlsConfiguration) {
            case (.prefer, let configuration?): .prefer(configuration)
            case (_, let configuration?): .require(configuration)
            case (_, nil): .disable
            }
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.username, password: target.password,
            database: target.database, tls: tls)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        return PostgresBackend(client: PostgresClient(configuration: configuration), target: target, tlsConfiguration: tlsConfiguration, leaseTimeout: leaseTimeout)
    }

    /// Checks `url` as ``connect(url:maxConnections:)`` does, without making a pool: it parses, its `sslmode`
    /// is known, its certificate files can be used.
    ///
    /// - Throws: `SQLStoreError.Code.invalidConfiguration`, naming the setting and never the password.
    public static func validate(url: String) throws {
        _ = try DatabaseURL(url).tlsConfiguration()
    }

    /// Like ``connect(url:maxConnections:)``, then opens one connection (TLS handshake and login included)
    /// and closes it, so a server that cannot be reached or trusted is reported at once, with its reason,
    /// rather than after the pool has retried for a minute.
    ///
    /// - Throws: `SQLStoreError.Code.invalidConfiguration` as ``connect(url:maxConnections:)`` does;
    ///   `SQLStoreError.Code.unavailable` naming the host, port and `sslmode` and saying why (a refused
    ///   certificate, a host name the certificate does not cover, the server's refusal). Never the password.
    public static func open(url: String, maxConnections: Int = 10, leaseTimeout: Duration = .seconds(10)) async throws -> PostgresBackend {
        let backend = try connect(url: url, maxConnections: maxConnections, leaseTimeout: leaseTimeout)
        do {
            try await backend.checkConnection()
        } catch {
            try? await backend.close()
            throw error
        }
        return backend
    }

    /// Opens one connection outside the pool, with the pool's settings, then closes it.
    ///
    /// - Throws: `SQLStoreError.Code.unavailable`, with the reason and without the password.
    public func checkConnection() async throws {
        let configuration = try connectionConfiguration()
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
        } catch {
            throw SQLStoreError(
                .unavailable,
                "cannot connect to PostgreSQL at \(target.host):\(target.port) "
                    + "(sslmode=\(target.tlsMode.rawValue)): \(reason(error))")
        }
    }

    /// Holds a connection of its own (outside the pool) that `LISTEN`s on `channel`, calling
    /// `onNotification` for each notification, until cancelled. After a lost connection it reconnects
    /// (waiting a second between attempts) and calls `onNotification` once, for what it may have missed.
    public func listen(channel: String, onNotification: @escaping @Sendable () async -> Void) async throws {
        let configuration = try connectionConfiguration()
        var reconnecting = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                do {
                    try await connection.listen(on: channel) { notifications in
                        if reconnecting { await onNotification() }
                        reconnecting = true
                        for try await _ in notifications { await onNotification() }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                // The stream ended without an error (the server closed the connection): reconnect, but
                // never in a tight loop.
                try await Task.sleep(for: .seconds(1))
            } catch {
                if Task.isCancelled { break }
                reconnecting = true
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls =
                switch (target.tlsMode, tlsConfiguration) {
                case (.prefer, let configuration?): .prefer(try NIOSSLContext(configuration: configuration))
                case (_, let configuration?): .require(try NIOSSLContext(configuration: configuration))
                case (_, nil): .disable
                }
        } catch {
            throw SQLStoreError(.invalidConfiguration, "the TLS settings in WARDEN_DATABASE_URL cannot be used (\(error))")
        }
        return PostgresConnection.Configuration(
            host: target.host, port: target.port, username: target.username, password: target.password,
            database: target.database, tls: tls)
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await leased { connected in
            try await self.client.withConnection { connection in
                connected(connection)
                return try await body(connection.sql(queryLogLevel: nil))
            }
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await leased { connected in
                try await self.client.withTransaction(logger: self.logger) { connection in
                    connected(connection)
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
    public func withPostgresConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await leased { connected in
            try await self.client.withConnection { connection in
                connected(connection)
                return try await body(connection)
            }
        }
    }

    /// Like ``transaction(_:)``, on the connection itself.
    public func connectionTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased { connected in
                try await self.client.withTransaction(logger: self.logger) { connection in
                    connected(connection)
                    return try await body(connection)
                }
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs `lease` (which calls `connected` with the connection once it holds one), failing with
    /// ``SQLStoreError/Code/unavailable``:
    /// - if it holds no connection within ``leaseTimeout`` (the wait is cancelled), counted in the
    ///   process's own time: a stall of the whole process counts at most 500 ms per 100 ms tick;
    /// - if the connection it holds closes before the work ends, 200 ms after the close.
    ///
    /// The second is a workaround found with `scripts/chaos.sh` (PostgreSQL restarted under load): a
    /// query that PostgresNIO writes to a connection the server has just closed never completes (the
    /// write fails on the closed channel with no promise to fail, so the query's own promise is never
    /// fulfilled), and a request waiting for it waited forever. The work runs in a task of its own so
    /// that the caller stops waiting for it; the pool discards the closed connection, and the abandoned
    /// task stays suspended on that promise (a few hundred bytes). Work on a live connection is not
    /// limited in time.
    private func leased<T: Sendable>(_ lease: @escaping @Sendable (_ connected: @escaping @Sendable (PostgresConnection) -> Void) async throws -> T) async throws -> T {
        let state = LeaseState<T>()
        let timeout = leaseTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                state.start(continuation)
                let work = Task {
                    do {
                        state.finish(.success(try await lease { state.connected($0) }))
                    } catch {
                        state.finish(.failure(error))
                    }
                }
                let watch = Task {
                    // The wait is the sum of the watch's own ticks, each counted as at most 500 ms: a
                    // process starved of CPU wakes its watch late, and the connection it was waiting for
                    // may be ready with the work not yet scheduled; that stall is not PostgreSQL's.
                    var waited = Duration.zero
                    var tick = ContinuousClock.now
                    var closedAt: ContinuousClock.Instant?
                    while (try? await Task.sleep(for: .milliseconds(100))) != nil {
                        let now = ContinuousClock.now
                        waited += min(now - tick, .milliseconds(500))
                        tick = now
                        switch state.phase {
                        case .finished:
                            return
                        case .waiting where waited >= timeout:
                            state.finish(.failure(SQLStoreError(.unavailable, "no PostgreSQL connection became available in time")))
                            state.cancelWork()
                            return
                        case .waiting:
                            continue
                        case .working(let connection) where connection.isClosed:
                            let closed = closedAt ?? .now
                            closedAt = closed
                            if ContinuousClock.now - closed >= .milliseconds(200) {
                                state.finish(.failure(SQLStoreError(.unavailable, "the PostgreSQL connection closed during the work")))
                                state.cancelWork()
                                return
                            }
                        case .working:
                            continue
                        }
                    }
                }
                state.attach(work: work, watch: watch)
            }
        } onCancel: {
            state.cancelWork()
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

/// One lease's progress, shared by the caller, the work and the watch: the first outcome resumes the
/// caller (once), and finishing cancels the watch.
private final class LeaseState<T: Sendable>: Sendable {
    enum Phase {
        case waiting
        case working(PostgresConnection)
        case finished
    }

    private struct Inner {
        var continuation: CheckedContinuation<T, any Error>?
        var phase = Phase.waiting
        var work: Task<Void, Never>?
        var watch: Task<Void, Never>?
        var cancelled = false
    }

    private let inner = Mutex(Inner())

    var phase: Phase { inner.withLock { $0.phase } }

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        inner.withLock { $0.continuation = continuation }
    }

    func attach(work: Task<Void, Never>, watch: Task<Void, Never>) {
        let (cancelWork, cancelWatch) = inner.withLock { state -> (Bool, Bool) in
            state.work = work
            state.watch = watch
            if case .finished = state.phase { return (state.cancelled, true) }
            return (state.cancelled, false)
        }
        if cancelWork { work.cancel() }
        if cancelWatch { watch.cancel() }
    }

    func connected(_ connection: PostgresConnection) {
        inner.withLock { state in
            if case .waiting = state.phase { state.phase = .working(connection) }
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, watch) = inner.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            state.phase = .finished
            defer { state.continuation = nil }
            return (state.continuation, state.watch)
        }
        watch?.cancel()
        continuation?.resume(with: result)
    }

    func cancelWork() {
        let work = inner.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }
}

extension PostgresBackend {
    /// Why a connection failed, in words safe to log: the server's own message (a `pg_hba.conf` refusal,
    /// a failed login), else the underlying error (a refused certificate, a host name the certificate does
    /// not cover, a refused TCP connection). PSQLError's `description` hides all of it, so it is taken
    /// apart here; should any part ever repeat the password, it is masked.
    func reason(_ error: any Error) -> String {
        var text: String
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                text = "the server refused: \(message)"
            } else if let underlying = error.underlying {
                text = "\(underlying)"
                if let tlsError = underlying as? NIOSSLExtraError, tlsError == .failedToValidateHostname {
                    text = "the server's certificate does not name \(target.host) (\(text))"
                } else if text.contains("CERTIFICATE_VERIFY_FAILED") {
                    let roots = if case .file(let path) = target.trustRoots { "sslrootcert \(path)" } else { "the system store" }
                    text = "the server's certificate chain does not lead to a CA in \(roots) (\(text))"
                }
            } else {
                text = "\(error.code)"
            }
        } else {
            text = "\(error)"
        }
        let password = target.password
        if let password, !password.isEmpty {
            text = text.replacingOccurrences(of: password, with: "<password>")
        }
        return text
    }
}
