import Foundation

/// A private `redis-server` for one test: its own port, no persistence; can be stopped and restarted
/// on the same port to test outages.
public final class RedisServer: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns the server, one call at a time.
    public let port: Int
    private let arguments: [String]
    private var process: Process?
    /// Holds the port while the server is stopped, so that no other test's server takes it: this test's
    /// client would then talk to that server (a FLUSHALL meant for this one once emptied another test's
    /// Redis Cluster node).
    private var tombstone: PortTombstone?

    /// The server's own working directory (unless the test names one): a `SAVE` writes its `dump.rdb`
    /// there, and only this server loads it at a restart. (In the package's directory, every test's
    /// server started with the keys another test had saved.)
    private let directory: String?

    public init(extraArguments: [String] = []) throws {
        port = try Self.freePort()
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"] + extraArguments
        if extraArguments.contains("--dir") {
            directory = nil
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-redis-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            arguments += ["--dir", directory]
            self.directory = directory
        }
        self.arguments = arguments
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public func start() async throws {
        tombstone?.close()
        tombstone = nil
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-server"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Ready when it accepts connections, and still running: another server on the port is not ours.
        for _ in 0..<200 {
            guard process.isRunning else { throw SetupError(description: "redis-server exited on port \(port) (taken by another process?)") }
            if Self.canConnect(port: port) {
                // A server that lost the port to another exits at once; give it the moment to show it.
                try await Task.sleep(for: .milliseconds(50))
                guard process.isRunning else { throw SetupError(description: "redis-server exited on port \(port) (taken by another process?)") }
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw SetupError(description: "redis-server did not start on port \(port) (is it installed? scripts/test.sh installs it)")
    }

    /// Kills the server (SIGKILL: as abrupt as a crash) and waits until its port is closed.
    ///
    /// Foundation's `waitUntilExit()` can block forever inside Swift concurrency on Linux, so this polls.
    public func stop() async {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        self.process = nil
        for _ in 0..<200 where Self.canConnect(port: port) {
            try? await Task.sleep(for: .milliseconds(25))
        }
        tombstone = PortTombstone(port: port)
    }

    deinit {
        tombstone?.close()
        if let process { kill(process.processIdentifier, SIGKILL) }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw SetupError(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func canConnect(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = loopbackAddress(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

public struct SetupError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

#if canImport(Glibc)
import Glibc
#endif
