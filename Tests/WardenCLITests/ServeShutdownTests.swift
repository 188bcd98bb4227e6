import Foundation
import Testing
import WardenTestSupport

/// `warden serve`'s graceful shutdown, on real processes and sockets: readiness turns 503 for the drain
/// period, then new connections are refused, a request in flight still completes, and the process exits
/// by itself (status 0, never through the watchdog), even with PostgreSQL and Redis both gone.
@Suite(.serialized)
struct ServeShutdownTests {
    static let watchdogMessage = "shutdown did not finish within"
    static let login = #"{"username":"root","password":"correct horse battery staple"}"#

    @Test func drainsReadinessThenRefusesConnectionsAndFinishesTheRequestInFlight() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        // The half-sent body waits for the test's checks (seconds on a loaded machine): no body deadline here,
        // only the shutdown is under test (BodyDeadlineTests covers the deadlines).
        cli.environment = [
            "WARDEN_SCRYPT_LOG_N": "10", "USER": "tester", "WARDEN_SHUTDOWN_DRAIN_SECONDS": "10",
            "WARDEN_BODY_TIMEOUT_SECONDS": "60", "WARDEN_BODY_MIN_BYTES_PER_SECOND": "0",
        ]
        let created = try await cli.run(["users", "create", "root", "--password-stdin"], input: Data("correct horse battery staple\n".utf8))
        #expect(created.status == 0, "\(created.stderr)")
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let port = server.port
        // A login whose head and first half of the body are in when SIGTERM arrives.
        let body = Array(Self.login.utf8)
        let inFlight = try RawConnection(port: port, timeout: 30)
        inFlight.send("POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
        inFlight.send(Array(body[..<(body.count / 2)]))
        try await Task.sleep(for: .milliseconds(200))
        let signalled = ContinuousClock.now
        server.send(SIGTERM)

        // During the drain (10 s: room for a loaded machine; once, with the whole suite on two slow cores, the
        // signal was handled more than 3.5 s after it was sent): connections are accepted, and readiness
        // answers 503. The signal is handled a moment after it is sent: probe until it is.
        var ready = ""
        while ContinuousClock.now - signalled < .milliseconds(9500) {
            ready = try await offPool { () -> String in
                let probe = try RawConnection(port: port)
                probe.send("GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                return probe.receive()
            }
            if ready.hasPrefix("HTTP/1.1 503") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ready.hasPrefix("HTTP/1.1 503"), "\(ready)")
        #expect(ready.contains("shutting_down"), "\(ready)")
        #expect(ContinuousClock.now - signalled < .seconds(10), "the readiness probe came after the drain")

        // After the drain: new connections are refused.
        var refusedAfter: Duration?
        while ContinuousClock.now - signalled < .seconds(20) {
            if RawConnection.isRefused(port: port) {
                refusedAfter = ContinuousClock.now - signalled
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let refused = try #require(refusedAfter, "new connections were still accepted 20 s after SIGTERM")
        #expect(refused >= .milliseconds(9900), "refused \(refused) after SIGTERM, before the 10 s drain ended")

        // The request in flight completes.
        let answer = try await offPool { () -> String in
            inFlight.send(Array(body[(body.count / 2)...]))
            return inFlight.receive()
        }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)\n\(server.output)")
        #expect(answer.contains("access_token"))

        let status = await server.exitStatus(within: .seconds(10))
        #expect(status == 0, "exit status \(String(describing: status)): \(server.output)")
        #expect(!server.output.contains(Self.watchdogMessage), "\(server.output)")
        if status == nil { server.send(SIGKILL) }
    }

    @Test func exitsPromptlyWhenPostgresAndRedisAreGone() async throws {
        let database = try await TestDatabase.makePostgresURL()
        let redis = try RedisServer()
        try await redis.start()
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = [
            "WARDEN_DATABASE_URL": database.url, "WARDEN_MASTER_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            "WARDEN_SCRYPT_LOG_N": "10", "WARDEN_REDIS_URL": redis.url, "USER": "tester", "WARDEN_SHUTDOWN_DRAIN_SECONDS": "0",
        ]
        let created = try await cli.run(["users", "create", "root", "--password-stdin"], input: Data("correct horse battery staple\n".utf8))
        #expect(created.status == 0, "\(created.stderr)")
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let port = server.port
        // Sessions in Redis, the ledger and audit in PostgreSQL: a login uses both.
        let signedIn = try await offPool { () -> String in
            let connection = try RawConnection(port: port)
            connection.send("POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(Self.login.utf8.count)\r\n\r\n\(Self.login)")
            return connection.receive()
        }
        #expect(signedIn.hasPrefix("HTTP/1.1 200"), "\(signedIn)")

        // Both stores go away; requests keep arriving (readiness probes and logins meet the dead stores).
        await redis.stop()
        await database.cleanup()
        let traffic = Task.detached {
            for _ in 0..<20 {
                guard let probe = try? RawConnection(port: port, timeout: 30) else { return }
                probe.send("GET /health/ready HTTP/1.1\r\nHost: localhost\r\n\r\n")
                let login = try? RawConnection(port: port, timeout: 30)
                login?.send("POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(Self.login.utf8.count)\r\n\r\n\(Self.login)")
                _ = probe.receive()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await Task.sleep(for: .seconds(1))
        let signalled = ContinuousClock.now
        server.send(SIGTERM)
        let status = await server.exitStatus(within: .seconds(25))
        let took = ContinuousClock.now - signalled
        traffic.cancel()
        #expect(status == 0, "exit status \(String(describing: status)) after \(took): \(server.output)")
        // At most: the request waiting for a database connection (WARDEN_DATABASE_WAIT_SECONDS, 5 s), then
        // the seal reservations given back (2 s), far from the 30 s watchdog.
        #expect(took < .seconds(12), "took \(took) to exit: \(server.output)")
        #expect(!server.output.contains(Self.watchdogMessage), "\(server.output)")
        if status == nil { server.send(SIGKILL) }
    }
}
