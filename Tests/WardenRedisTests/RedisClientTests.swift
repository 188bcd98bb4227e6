import NIOCore
import Testing
import WardenRedis
import WardenTestSupport

/// The client against a real `redis-server`.
@Suite(.serialized)
struct RedisClientTests {
    func withServer(_ extra: [String] = [], _ body: (RedisServer) async throws -> Void) async throws {
        let server = try RedisServer(extraArguments: extra)
        try await server.start()
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func commandsPipelinesAndTypes() async throws {
        try await withServer { server in
            let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
            #expect(try await client.send("PING").string == "PONG")
            #expect(try await client.send("SET", "k", RedisArgument(bytes: [0, 255, 13, 10])).string == "OK")
            guard case .bulkString(var value?) = try await client.send("GET", "k") else {
                Issue.record("not a bulk string")
                return
            }
            #expect(value.readBytes(length: value.readableBytes) == [0, 255, 13, 10])
            #expect(try await client.send("GET", "missing").isNull)
            let replies = try await client.pipeline((0..<100).map { _ in ["INCR", "counter"] } + [["LPUSH", "counter", "x"]])
            #expect(replies.prefix(100).map(\.int) == (1...100).map { Int64($0) })
            if case .error(let message) = replies.last! { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("expected an error reply") }
            await #expect(throws: RedisError.self) { try await client.send("LPUSH", "counter", "x") }
            // RESP3: HGETALL answers a map.
            try await client.send("HSET", "h", "a", "1")
            if case .map(let pairs) = try await client.send("HGETALL", "h") { #expect(pairs.count == 1) } else { Issue.record("expected a map") }
            await client.close()
        }
    }

    @Test func concurrentCallsShareABoundedPool() async throws {
        try await withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.maximumConnections = 3
            // Two hundred callers multiplexed over three connections; every reply must reach its caller.
            configuration.leaseTimeout = .seconds(30)
            let client = RedisClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await client.send("INCR", "n")
                        // Each caller gets its own reply, not a neighbour's.
                        let echoed = try await client.send("ECHO", RedisArgument("caller-\(index)")).string
                        #expect(echoed == "caller-\(index)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send("GET", "n").int == 200)
            let clients = try await client.send("CLIENT", "LIST").string ?? ""
            #expect(clients.split(separator: "\n").count <= 3)
            await client.close()
        }
    }

    @Test func scriptsRunBySHAAndReloadAfterAFlush() async throws {
        try await withServer { server in
            let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
            let script = RedisScript(name: "test_incrby", "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.run(script, keys: ["s"], arguments: [5]).int == 5)
            try await client.send("SCRIPT", "FLUSH")
            #expect(try await client.run(script, keys: ["s"], arguments: [2]).int == 7)
            #expect(try await client.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).elements?.first?.int == 1)
            await client.close()
        }
    }

    @Test func passwordsUsersAndDatabases() async throws {
        try await withServer(["--requirepass", "s3cret-pass"]) { server in
            let anonymous = RedisClient(configuration: try RedisConfiguration(url: server.url))
            let refused = try await #require(throws: RedisError.self) { try await anonymous.send("PING") }
            #expect(!refused.message.contains("s3cret"))
            await anonymous.close()
            let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://:wrong-pass@127.0.0.1:\(server.port)"))
            let error = try await #require(throws: RedisError.self) { try await wrong.send("PING") }
            #expect(error.code == .unavailable)
            #expect(!error.message.contains("wrong-pass"))
            await wrong.close()
            let admin = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret-pass@127.0.0.1:\(server.port)/3"))
            try await admin.send("SET", "where", "db3")
            try await admin.send("ACL", "SETUSER", "warden", "on", ">user-pass", "~*", "+@all")
            let user = RedisClient(configuration: try RedisConfiguration(url: "redis://warden:user-pass@127.0.0.1:\(server.port)/3"))
            #expect(try await user.send("GET", "where").string == "db3")
            #expect(try await user.send("ACL", "WHOAMI").string == "warden")
            await admin.close()
            await user.close()
        }
    }

    @Test func slowCommandsTimeOut() async throws {
        try await withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.commandTimeout = .milliseconds(200)
            let client = RedisClient(configuration: configuration)
            let error = try await #require(throws: RedisError.self) { try await client.send("BLPOP", "empty-list", "1") }
            #expect(error.code == .unavailable)
            try await Task.sleep(for: .milliseconds(900))
            // The client answers again after its timeout. (Under the full suite's load a PING, with the
            // connection it opens, can itself exceed the 200 ms timeout, once for 9 s on end on two slow
            // cores: attempts for up to 30 s, and the last failure is reported.)
            var answer: String?
            var failures: [String] = []
            let giveUp = ContinuousClock.now + .seconds(30)
            while answer == nil, ContinuousClock.now < giveUp {
                do {
                    answer = try await client.send("PING").string
                } catch {
                    failures.append(String(describing: error))
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            #expect(answer == "PONG", "\(failures.count) attempts failed, the last: \(failures.last ?? "none")")
            await client.close()
        }
    }

    /// One timer per connection watches the oldest waiting command: a command written after others were
    /// answered gets its own full timeout (the timer armed for the earlier ones is moved on, not fired at
    /// it), and a command past its deadline still fails. In seconds, not fractions of one: with the whole
    /// suite on two slow cores, the first connection and 20 PINGs once took more than 400 ms.
    @Test func eachCommandGetsItsWholeTimeoutOnASharedTimer() async throws {
        try await withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.commandTimeout = .seconds(2)
            configuration.maximumConnections = 1
            let client = RedisClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { try await client.send("PING") } }
                try await group.waitForAll()
            }
            try await Task.sleep(for: .milliseconds(1250))
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await #require(throws: RedisError.self) { try await client.send("BLPOP", "empty-list", "10") }
            let waited = clock.now - start
            #expect(error.code == .unavailable)
            #expect(error.message.contains("did not answer within"))
            // Cut at the earlier commands' deadline it would have waited about 750 ms.
            #expect(waited >= .milliseconds(1750), "failed after \(waited)")
            #expect(waited < .milliseconds(9500), "failed after \(waited)")
            await client.close()
        }
    }

    @Test func outagesFailClosedAndRecoverByThemselves() async throws {
        let server = try RedisServer()
        try await server.start()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.initialBackoff = .milliseconds(50)
        configuration.maximumBackoff = .milliseconds(200)
        let client = RedisClient(configuration: configuration)
        try await client.send("SET", "a", "1")
        await server.stop()
        for _ in 0..<5 {
            let error = try await #require(throws: RedisError.self) { try await client.send("GET", "a") }
            #expect(error.code == .unavailable)
        }
        try await server.start()
        var recovered = false
        for _ in 0..<40 where !recovered {
            recovered = (try? await client.send("PING"))?.string == "PONG"
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered)
        await client.close()
        await server.stop()
    }

    @Test func publishAndSubscribe() async throws {
        try await withServer { server in
            let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
            let subscription = try await client.subscribe(to: ["revocations"])
            var delivered: Int64 = 0
            for _ in 0..<50 where delivered == 0 {
                delivered = try await client.publish("session-1", to: "revocations")
                if delivered == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(delivered == 1)
            var iterator = subscription.messages.makeAsyncIterator()
            let message = try await iterator.next()
            #expect(message?.channel == "revocations")
            #expect(message.map { String(buffer: $0.payload) } == "session-1")
            await subscription.cancel()
            await client.close()
        }
    }

    /// A reply over the configured limits fails the command with a clear error and closes the
    /// connection, without buffering the rest; the next command gets a fresh connection.
    @Test func aReplyOverTheLimitsFailsTheConnectionClearly() async throws {
        try await withServer { server in
            var configuration = try RedisConfiguration(url: server.url)
            configuration.replyLimits.maxValueBytes = 64 << 10
            let client = RedisClient(configuration: configuration)
            try await client.send("SET", "big", RedisArgument(bytes: [UInt8](repeating: 0x61, count: 100 << 10)))
            try await client.send("SET", "small", "ok")
            let error = try await #require(throws: RedisError.self) { try await client.send("GET", "big") }
            #expect(error.code == .protocolViolation)
            #expect(error.message.contains("over the configured limits"))
            // Many small elements adding up past the limit: refused the same way.
            _ = try await client.pipeline((0..<20).map { _ in ["RPUSH", "list", RedisArgument(bytes: [UInt8](repeating: 0x62, count: 4096))] })
            let wide = try await #require(throws: RedisError.self) { try await client.send("LRANGE", "list", "0", "-1") }
            #expect(wide.message.contains("over the configured limits"))
            #expect(try await client.send("GET", "small").string == "ok")
            await client.close()
        }
    }

    @Test func urlsParseAndNeverEchoPasswords() throws {
        let full = try RedisConfiguration(url: "rediss://user:p%40ss@cache.example.com:6380/2")
        #expect(full.useTLS && full.host == "cache.example.com" && full.port == 6380 && full.database == 2)
        #expect(full.username == "user" && full.password == "p@ss")
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(!plain.useTLS && plain.port == 6379 && plain.database == 0 && plain.password == nil)
        for bad in ["http://x", "redis://", "redis://h/notanumber", "redis://:hunter2@/0"] {
            let error = try #require(throws: RedisError.self) { try RedisConfiguration(url: bad) }
            #expect(!error.message.contains("hunter2"))
        }
    }
}
