import Foundation
import Synchronization

/// A real Redis Cluster for tests: three primaries and three replicas (`redis-server --cluster-enabled
/// yes`, joined with `redis-cli --cluster create`), on free ports of the loopback address, with a 2 s
/// node timeout so that a replica takes over a killed primary within a few seconds.
public final class RedisClusterServers: Sendable {
    public let ports: [Int]
    private let directory: String
    private let processes = Mutex<[Int: Process]>([:])
    /// Listeners holding killed nodes' ports, so that no other test's server takes one while clients still
    /// know the address (a client would then get that server's answers: a standalone Redis of another
    /// test, with none of this cluster's keys, answered for a killed primary once).
    private let tombstones = Mutex<[Int: PortTombstone]>([:])

    /// One cluster shared by every test of the process that only needs a cluster (each uses its own key
    /// prefix); tests that kill nodes make their own.
    public static func shared() async throws -> RedisClusterServers {
        try await sharedCluster.value
    }
    private static let sharedCluster = Task { try await RedisClusterServers.start() }

    /// `redis+cluster://` with every node as a seed.
    public var url: String { "redis+cluster://" + ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    private init(ports: [Int], directory: String) {
        self.ports = ports
        self.directory = directory
    }

    /// Starts a cluster; a port taken by another test between choosing it and binding it (the tests run
    /// in parallel, and each node also binds port + 10000) makes a node fail, so it retries on new ports.
    public static func start() async throws -> RedisClusterServers {
        var failure: (any Error)?
        for _ in 0..<3 {
            do {
                return try await attempt()
            } catch {
                failure = error
            }
        }
        throw failure!
    }

    private static func attempt() async throws -> RedisClusterServers {
        var ports: [Int] = []
        while ports.count < 6 {
            let port = try RedisServer.freePort()
            // The cluster bus listens on port + 10000.
            if port < 55_000, !ports.contains(port) { ports.append(port) }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = RedisClusterServers(ports: ports, directory: directory)
        do {
            for port in ports { try await cluster.startNode(port) }
        } catch {
            await cluster.stop()
            throw error
        }
        let (status, _, stderr) = try await runProcess(
            "/usr/bin/env", ["redis-cli", "--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "1", "--cluster-yes"])
        guard status == 0 else {
            await cluster.stop()
            throw SetupError(description: "redis-cli --cluster create failed: \(String(decoding: stderr, as: UTF8.self))")
        }
        try await cluster.waitUntilHealthy()
        return cluster
    }

    /// Starts (or restarts, keeping its cluster identity) the node on `port`.
    public func startNode(_ port: Int) async throws {
        tombstones.withLock { $0.removeValue(forKey: port) }?.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes-\(port).conf", "--cluster-node-timeout", "2000", "--dir", directory,
            "--save", "", "--appendonly", "no", "--dbfilename", "dump-\(port).rdb",
            // Replicas sync at once (not after diskless replication's 5 s delay), and a replica may take
            // over however long it was apart from its primary: a test kills a primary seconds after start.
            "--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = Self.started.withLock { $0.insert(process.processIdentifier) }
        processes.withLock { $0[port] = process }
        for _ in 0..<200 {
            // Our node, not another test's server on the same port: it must still be running.
            guard process.isRunning else { throw SetupError(description: "redis-server (cluster node) exited on port \(port)") }
            if RedisServer.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw SetupError(description: "redis-server (cluster node) did not start on port \(port)")
    }

    /// Kills the node on `port` (SIGKILL) and waits until its port is closed.
    public func killNode(_ port: Int) async {
        guard let process = processes.withLock({ $0.removeValue(forKey: port) }) else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<200 where RedisServer.canConnect(port: port) { try? await Task.sleep(for: .milliseconds(25)) }
        if let tombstone = PortTombstone(port: port) { tombstones.withLock { $0[port] = tombstone } }
    }

    /// The primaries' ports, as the cluster reports them now.
    public func primaries() async throws -> [Int] {
        for port in ports where processes.withLock({ $0[port] != nil }) {
            let (status, stdout, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(port), "CLUSTER", "NODES"])
            guard status == 0 else { continue }
            return String(decoding: stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                // A primary serving slots: its slot ranges follow the eighth field.
                guard fields.count > 8, fields[2].contains("master"), !fields[2].contains("fail") else { return nil }
                return fields[1].split(separator: "@").first.flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
            }.sorted()
        }
        return []
    }

    /// Waits until every live node reports `cluster_state:ok` and every live replica is in sync.
    public func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            var healthy = true
            for port in ports where processes.withLock({ $0[port] != nil }) {
                let (_, stdout, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(port), "CLUSTER", "INFO"])
                if !String(decoding: stdout, as: UTF8.self).contains("cluster_state:ok") {
                    healthy = false
                    break
                }
                let (_, replication, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(port), "INFO", "replication"])
                let text = String(decoding: replication, as: UTF8.self)
                if text.contains("role:slave"), !text.contains("master_link_status:up") {
                    healthy = false
                    break
                }
            }
            if healthy { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SetupError(description: "the Redis Cluster did not become healthy")
    }

    public func stop() async {
        for port in ports { await killNode(port) }
        for tombstone in tombstones.withLock({ tombstones in
            defer { tombstones.removeAll() }
            return Array(tombstones.values)
        }) { tombstone.close() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Every node any cluster started, killed when the test process exits (the shared cluster lives until then).
    private static let started: Mutex<Set<Int32>> = {
        atexit {
            for pid in RedisClusterServers.started.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        return Mutex([])
    }()
}

#if canImport(Glibc)
import Glibc
#endif

/// A listener on a freed port that accepts connections and closes them at once: a client of the killed
/// server there sees a closed connection, never another server's answers.
final class PortTombstone: Sendable {
    /// The listening socket, -1 once closed. Only the accepting thread closes it, and only under this
    /// lock, once its `accept` fails: a descriptor closed while that thread could still call `accept` on
    /// its number, or a second `close`, could reach a socket another test had just been given.
    private let socket: Mutex<Int32>

    init?(port: Int) {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            _ = Foundation.close(fd)
            return nil
        }
        socket = Mutex(fd)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    self.socket.withLock { fd in
                        if fd >= 0 { _ = Foundation.close(fd) }
                        fd = -1
                    }
                    return
                }
                _ = Foundation.close(client)
            }
        }
    }

    /// Frees the port: `accept` fails, and the accepting thread closes the socket and ends.
    func close() {
        socket.withLock { fd in
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}
