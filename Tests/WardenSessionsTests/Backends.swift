import Foundation
public import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenRedis
import WardenSQL
import WardenSessions
import WardenTestSupport

/// The session store backends the shared suite runs against.
public enum SessionBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite, postgres, redis, redisCluster
    public var testDescription: String { self == .redisCluster ? "redis cluster" : rawValue }

    static let masterKey = try! MasterKey(bytes: [UInt8](repeating: 0x42, count: 32))
    static let chain = AuditChain(key: masterKey.auditKey)

    /// A fresh store, a way to open another "node" on the same data, the Redis server (for outage tests),
    /// and cleanup.
    func make() async throws -> BackendFixture {
        switch self {
        case .memory:
            let store = MemorySessionStore()
            return BackendFixture(store: store, activity: store, node: { (store, store) }, redis: nil, redisClient: nil, sql: nil, cleanup: {})
        case .sqlite, .postgres:
            let (backend, reconnect, cleanup) = try await (self == .sqlite ? TestDatabase.sqlite : TestDatabase.postgres).makeBackend()
            try await Migrations.migrate(backend)
            let store = SQLStore(backend: backend, auditChain: Self.chain, keyringActor: "test")
            return BackendFixture(
                store: store, activity: store,
                node: {
                    let other = SQLStore(backend: try await reconnect(), auditChain: Self.chain, keyringActor: "node-2")
                    return (other, other)
                },
                redis: nil, redisClient: nil, sql: store, cleanup: cleanup)
        case .redis:
            let server = try RedisServer()
            try await server.start()
            return try Self.redisFixture(url: server.url, server: server)
        case .redisCluster:
            // Three primaries and three replicas, shared by the tests (every account has keys of its own).
            return try Self.redisFixture(url: try await RedisClusterServers.shared().url, server: nil)
        }
    }
}

extension SessionBackend {
    /// A Redis session store at `url` (one server, or a cluster), with another node on the same data;
    /// `server` (a single server) is stopped at cleanup and offered to outage tests.
    fileprivate static func redisFixture(url: String, server: RedisServer?) throws -> BackendFixture {
        var configuration = try RedisConfiguration(url: url)
        configuration.initialBackoff = .milliseconds(20)
        configuration.maximumBackoff = .milliseconds(100)
        configuration.leaseTimeout = .seconds(30)
        let settings = configuration
        let client = RedisClient(configuration: settings)
        let store = RedisSessionStore(client: client, prefix: "t")
        return BackendFixture(
            store: store, activity: store,
            node: {
                let other = RedisSessionStore(client: RedisClient(configuration: settings), prefix: "t")
                return (other, other)
            },
            redis: server.map { ($0, client) }, redisClient: client, sql: nil,
            cleanup: {
                await client.close()
                await server?.stop()
            })
    }
}

struct BackendFixture: Sendable {
    let store: any SessionStore
    let activity: any ActivityStore
    let node: @Sendable () async throws -> (any SessionStore, any ActivityStore)
    /// The single Redis server and its client (outage tests stop and restart it).
    let redis: (server: RedisServer, client: RedisClient)?
    /// The Redis client (single server or cluster), for tests that write Redis keys directly.
    let redisClient: RedisClient?
    let sql: SQLStore?
    let cleanup: @Sendable () async -> Void
}

/// A session record for tests.
func makeSession(
    account: UUID = UUID(), created: Date, idle: TimeInterval = 3600, lifetime: TimeInterval = 86_400,
    device: Device = Device(userAgent: "Mozilla/5.0 (Test)", address: "192.0.2.1"), refresh: String = SessionID.make()
) -> (id: String, record: SessionRecord) {
    let id = SessionID.make()
    return (
        id,
        SessionRecord(
            idHash: SessionID.hash(id), accountID: account, device: device, created: created, lastActivity: created,
            idleTimeout: idle, absoluteExpiry: created.addingTimeInterval(lifetime), level: .password, refreshTokenID: refresh)
    )
}

/// Whole-millisecond "now", as the stores keep it.
func wholeMilliseconds(_ date: Date = Date()) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
}
