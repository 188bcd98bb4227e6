import Foundation
import Synchronization
import Testing
import WardenTestSupport

/// `warden serve` as operators run it: two nodes sharing a real PostgreSQL and Redis, over TLS, driven by
/// a Python client (python/e2e_flow.py) through a whole login, MFA, refresh and revocation flow.
@Suite(.serialized)
struct ServeEndToEndTests {
    static let flow = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/e2e_flow.py").path

    /// The same flow on one Redis server and on a Redis Cluster (three primaries, three replicas).
    @Test(arguments: ["redis", "redis cluster"])
    func twoNodesSharePostgresAndRedis(_ redisKind: String) async throws {
        let database = try await TestDatabase.makePostgresURL()
        let redis = try RedisServer()
        let redisURL: String
        if redisKind == "redis cluster" {
            redisURL = try await RedisClusterServers.shared().url
        } else {
            try await redis.start()
            redisURL = redis.url
        }
        var cli = try CLI()
        cli.environment = [
            "WARDEN_DATABASE_URL": database.url, "WARDEN_MASTER_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            "WARDEN_SCRYPT_LOG_N": "10", "WARDEN_REDIS_URL": redisURL, "USER": "tester",
            "WARDEN_LOG_LEVEL": "debug", "WARDEN_LOG_FORMAT": "json",
        ]
        var nodes: [ServeProcess] = []
        do {
            let created = try await cli.run(["users", "create", "root", "--password-stdin"], input: Data("correct horse battery staple\n".utf8))
            #expect(created.status == 0, "\(created.stderr)")
            #expect(try await cli.run(["users", "grant", "root", "account_admin"]).status == 0)
            let certs = try await cli.run(["certs", "generate", "--cert", cli.file("cert.pem"), "--key", cli.file("key.pem")])
            #expect(certs.status == 0, "\(certs.stderr)")
            for _ in 0..<2 {
                nodes.append(
                    try await ServeProcess.start(
                        CLI.executable, ["serve", "--port", "0", "--tls-cert", cli.file("cert.pem"), "--tls-key", cli.file("key.pem")],
                        environment: cli.processEnvironment, directory: cli.directory))
            }
            let result = try await runProcess(
                "/usr/bin/env", ["python3", Self.flow, cli.file("cert.pem"), nodes[0].url, nodes[1].url, "root", "correct horse battery staple"])
            let output = String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
            #expect(result.status == 0, "\(output)\nnode 1: \(nodes[0].output)\nnode 2: \(nodes[1].output)")
            #expect(output.contains("e2e flow passed"))
            // Nothing secret reached the logs (at debug level): no password, token, code or challenge the flow
            // sent or received.
            let report = try #require(
                String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").last.flatMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                })
            let secrets = try #require(report["secrets"] as? [String]) + [try #require(cli.environment["WARDEN_MASTER_KEY"])]
            #expect(secrets.count > 20)
            for node in nodes {
                #expect(!node.output.contains("correct horse battery staple"))
                for line in node.log.split(separator: "\n") {
                    for secret in secrets where LogSecretsTests.contains(String(line), secret) {
                        Issue.record("a secret (\(secret.count) characters) in the log: \(line)")
                    }
                    // A log collector can read every line (PostgreSQL's client logs here too).
                    #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not a JSON line: \(line)")
                }
            }
            // Both keys rotate while the two nodes run: each is published, held by both nodes (told by
            // NOTIFY), and promoted once both report it, normally within the command's 5 s; on a loaded
            // machine the command is run again (it then promotes the key already published).
            for (arguments, rotated) in [(["keys", "rotate", "--signing-key"], "rotated: tokens are now signed with key "), (["keys", "rotate"], "rotated: the primary key version is now ")] {
                var result = try await cli.run(arguments)
                for _ in 0..<2 where result.line.hasPrefix("published: ") { result = try await cli.run(arguments) }
                #expect(result.line.hasPrefix(rotated), "\(result.output)\(result.stderr)")
            }
            #expect(try await cli.run(["audit", "verify"]).status == 0)
            // The audit log holds the failed login for the password typed as a username only as its tag.
            let tail = try await cli.run(["audit", "tail", "--json", "--limit", "1000"]).output
            #expect(!tail.contains("correct horse"))
            let tag = try await cli.run(["audit", "tag", "correct horse battery staple"]).line
            #expect(tag.count == 24)
            #expect(tail.contains("\"username_tag\":\"\(tag)\""))
            // The per-username login counter in Redis is keyed by the same tag, not by the typed text.
            var keys = ""
            let servers = redisKind == "redis cluster" ? try await RedisClusterServers.shared().ports.map { "redis://127.0.0.1:\($0)" } : [redis.url]
            for server in servers {
                keys += String(decoding: try await runProcess("/usr/bin/env", ["redis-cli", "-u", server, "--scan"]).stdout, as: UTF8.self)
            }
            #expect(keys.contains("login:\(tag):"), "\(keys)")
            #expect(!keys.contains("correct horse"))
        } catch {
            Issue.record(error)
        }
        // Shut down as in production: SIGTERM, while Redis and the database go away too. Every node must
        // end by itself (a node once hung here in shutdown; the watchdog now ends it within 30 s).
        async let stopped = withTaskGroup(of: Bool.self) { group in
            for node in nodes { group.addTask { await node.stop() } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        await redis.stop()
        await database.cleanup()
        #expect(await stopped.allSatisfy { $0 }, "a node needed SIGKILL after SIGTERM")
        cli.cleanup()
    }
}

/// A running `warden serve`: started, its address read from its first line, stopped with SIGTERM.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let url: String
    private let captured: OutputBuffer
    private let standardError: OutputBuffer

    /// Standard output and standard error as they came.
    var output: String { captured.text }
    /// Standard error alone: the log.
    var log: String { standardError.text }

    private init(process: Process, url: String, captured: OutputBuffer, standardError: OutputBuffer) {
        self.process = process
        self.url = url
        self.captured = captured
        self.standardError = standardError
    }

    static func start(_ executable: String, _ arguments: [String], environment: [String: String], directory: String) async throws -> ServeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe.closedOnExec()
        let errorPipe = Pipe.closedOnExec()
        process.standardOutput = pipe
        process.standardError = errorPipe
        let buffer = OutputBuffer()
        let errors = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in buffer.append(handle.availableData) }
        errorPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            buffer.append(data)
            errors.append(data)
        }
        try process.run()
        for _ in 0..<600 {
            let seen = buffer.text
            if let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("warden: listening on ") }) {
                let url = String(line.dropFirst("warden: listening on ".count)).replacingOccurrences(of: "127.0.0.1", with: "localhost")
                return ServeProcess(process: process, url: url, captured: buffer, standardError: errors)
            }
            guard process.isRunning else { throw CLIFailure(description: "warden serve exited: \(seen)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw CLIFailure(description: "warden serve did not start: \(buffer.text)")
    }

    /// The port it listens on.
    var port: Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// Sends `signal` without waiting for anything.
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits at most `limit` for the process to end; its exit status, or `nil` if it still runs.
    func exitStatus(within limit: Duration) async -> Int32? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Sends SIGTERM and waits for the process to end (at most 60 s; then SIGKILL). Returns whether it
    /// ended by itself.
    @discardableResult
    func stop() async -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        for _ in 0..<600 {
            if !process.isRunning { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        return false
    }
}

final class OutputBuffer: Sendable {
    private let storage = Mutex("")
    var text: String { storage.withLock { $0 } }
    func append(_ data: Data) { storage.withLock { $0 += String(decoding: data, as: UTF8.self) } }
}
