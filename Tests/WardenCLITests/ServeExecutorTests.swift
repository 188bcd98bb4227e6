import Foundation
import Testing
import WardenTestSupport

/// Where `warden serve` runs its requests' tasks, read from the kernel's per-thread CPU accounting: by
/// default on NIO's event loops (`EventLoopExecutor`), with `WARDEN_EXECUTOR=swift` on Swift's own pool.
/// The second case shows that the measurement tells the two apart; the first is the property. (NIO's
/// own take-over found the runtime's hook with `dlsym`, which fails in a `--static-swift-stdlib` binary
/// and left every task on Swift's pool there without a word; `serve` now warns when that happens.)
@Suite(.serialized)
struct ServeExecutorTests {
    static let poolWarning = "tasks run on Swift's own pool"

    @Test func requestsRunOnTheEventLoopsByDefault() async throws {
        let split = try await Self.cpuSplit(environment: [:])
        #expect(!split.log.contains(Self.poolWarning), "\(split.log)")
        // Swift's pool threads may exist (the runtime starts them) but do none of the requests' work.
        #expect(split.pool * 10 <= split.loops, "Swift's pool \(split.pool) ticks against the event loops' \(split.loops)")
    }

    @Test func swiftsPoolRunsThemWhenAskedFor() async throws {
        let split = try await Self.cpuSplit(environment: ["WARDEN_EXECUTOR": "swift"])
        #expect(!split.log.contains(Self.poolWarning), "no warning when the pool was asked for: \(split.log)")
        #expect(split.pool * 5 >= split.loops, "Swift's pool \(split.pool) ticks against the event loops' \(split.loops)")
    }

    /// Serves `GET /health` over one keep-alive connection until the server has spent at least 400 ms of
    /// CPU, then sums the CPU ticks of its event-loop threads (`NIO-SGLTN-…`) and of Swift's pool
    /// (Dispatch's worker threads, `com.apple.root.…-qos…`).
    static func cpuSplit(environment: [String: String]) async throws -> (loops: Int, pool: Int, log: String) {
        let cli = try CLI()
        defer { cli.cleanup() }
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment.merging(environment) { $1 },
            directory: cli.directory)
        let pid = server.process.processIdentifier
        let port = server.port
        let ticks = try await offPool { () -> [String: Int] in
            let connection = try RawConnection(port: port, timeout: 10)
            let batch = String(repeating: "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", count: 50)
            let start = Self.threadTicks(pid: pid).values.reduce(0, +)
            for _ in 0..<2_000 {
                if !connection.send(batch) { break }
                var answered = 0
                while answered < 50 {
                    let bytes = connection.receiveBytes(upTo: 65_536)
                    if bytes.isEmpty { break }
                    answered += String(decoding: bytes, as: UTF8.self).components(separatedBy: "HTTP/1.1 200").count - 1
                }
                if answered < 50 { break }
                if Self.threadTicks(pid: pid).values.reduce(0, +) - start >= 40 { break }
            }
            return Self.threadTicks(pid: pid)
        }
        // A connection that failed or stopped answering leaves too little work measured (below).
        let loops = ticks.filter { $0.key.hasPrefix("NIO-SGLTN") }.values.reduce(0, +)
        let pool = ticks.filter { $0.key.contains("qos") }.values.reduce(0, +)
        #expect(loops + pool >= 20, "too little work was measured: \(ticks)")
        _ = await server.stop()
        return (loops, pool, server.log)
    }

    /// CPU ticks (user + system, in 1/100 s) per thread name, from `/proc/<pid>/task/*/stat`.
    static func threadTicks(pid: Int32) -> [String: Int] {
        var ticks: [String: Int] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"),
                let open = stat.firstIndex(of: "(")
            else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            // After the name: state (field 3), then fields 4…; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { continue }
            ticks[name, default: 0] += user + system
        }
        return ticks
    }
}
