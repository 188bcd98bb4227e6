public import CoreMetrics
import Crypto
import WardenCore
public import NIOCore
import NIOPosix
import Synchronization
import Tracing

/// A Redis client: a bounded connection pool, pipelining, Lua scripts by SHA with a fallback when the
/// server's script cache is empty, and pub/sub.
///
/// - Important: Every failure to reach Redis — refused connection, lost connection, timeout — is a
///   ``RedisError`` with code ``RedisError/Code/unavailable``; callers must treat it as "fail closed".
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    let group: any EventLoopGroup
    private let pool: RedisPool
    private let sent = Atomic<Int>(0)

    /// Round trips made so far (a command, or a pipeline of them): what the request path is measured in.
    public var roundTrips: Int { sent.load(ordering: .relaxed) }

    /// Round-trip latency (`warden_redis_command_duration_seconds`) by command or script name, never by key.
    private let timers: RoundTripTimers

    /// - Parameter metrics: Where round trips are timed; the process-wide swift-metrics factory by default.
    public init(configuration: RedisConfiguration, group: (any EventLoopGroup)? = nil, metrics: (any MetricsFactory)? = nil) {
        self.configuration = configuration
        let group = group ?? MultiThreadedEventLoopGroup.singleton
        self.group = group
        pool = RedisPool(configuration: configuration, group: group)
        timers = RoundTripTimers(name: "warden_redis_command_duration_seconds", label: "command", factory: metrics)
    }

    /// Sends one command. An error reply throws ``RedisError/Code/server``.
    @discardableResult
    public func send(_ command: [RedisArgument]) async throws -> RESPValue {
        try await send(command, timedAs: command.first.map(Self.commandName) ?? "other")
    }

    /// Sends one command, timing the round trip (from the request written to the reply read, without the
    /// wait for a pooled connection) under `name`.
    ///
    /// Inside a traced request the command is a span `redis <COMMAND>` (`redis EVALSHA` for a script, with
    /// the script's name): never its keys or arguments, which hold hashes of tokens and account ids.
    private func send(_ command: [RedisArgument], timedAs name: String) async throws -> RESPValue {
        sent.add(1, ordering: .relaxed)
        return try await WardenTracing.span("redis " + (command.first.map(Self.commandName) ?? "other"), ofKind: .client) { span in
            if let span {
                let operation = command.first.map(Self.commandName) ?? "other"
                span.attributes["db.system.name"] = "redis"
                span.attributes["db.operation.name"] = operation
                if name != operation { span.attributes["warden.redis.script"] = name }
            }
            return try await pool.withConnection { connection in
                try await self.timers.measure(name) { try await connection.send(command) }
            }
        }
    }

    /// A command's name as a label value: the upper-cased command when it is one (letters only, at most
    /// 32), `other` otherwise — never anything else the caller passed.
    static func commandName(_ argument: RedisArgument) -> String {
        let bytes = argument.bytes
        guard !bytes.isEmpty, bytes.count <= 32, bytes.allSatisfy({ (0x41...0x5A).contains($0 & ~0x20) }) else { return "other" }
        return String(decoding: bytes.map { $0 & ~0x20 }, as: UTF8.self)
    }

    @discardableResult
    public func send(_ command: RedisArgument...) async throws -> RESPValue {
        try await send(command)
    }

    /// Sends several commands in one round trip. Error replies come back as ``RESPValue/error(_:)`` in
    /// their place; they do not throw.
    public func pipeline(_ commands: [[RedisArgument]]) async throws -> [RESPValue] {
        sent.add(1, ordering: .relaxed)
        return try await WardenTracing.span("redis pipeline", ofKind: .client) { span in
            span?.attributes["db.system.name"] = "redis"
            span?.attributes["db.operation.batch.size"] = commands.count
            return try await pool.withConnection { connection in
                try await self.timers.measure("pipeline") { try await connection.sendRaw(commands) }
            }
        }
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` when the server does not have it
    /// cached (after a restart or `SCRIPT FLUSH`).
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        let tail: [RedisArgument] = [RedisArgument(keys.count)] + keys.map { RedisArgument($0) } + arguments
        do {
            return try await send(["EVALSHA", RedisArgument(script.sha1)] + tail, timedAs: script.name)
        } catch let error as RedisError where error.isNoScript {
            return try await send(["EVAL", RedisArgument(script.source)] + tail, timedAs: script.name)
        }
    }

    /// Subscribes to channels on a connection of its own. Messages arrive on the returned subscription
    /// until it is cancelled (or the connection is lost, which ends the stream with an error).
    public func subscribe(to channels: [String]) async throws -> RedisSubscription {
        let (stream, continuation) = AsyncThrowingStream<RedisMessage, any Error>.makeStream()
        let connection = try await RedisConnection.connect(configuration, group: group) { push in
            guard let elements = push.elements, elements.count == 3, elements[0].string == "message",
                  let channel = elements[1].string, case .bulkString(let payload?) = elements[2]
            else { return }
            continuation.yield(RedisMessage(channel: channel, payload: payload))
        }
        connection.channel.closeFuture.whenComplete { _ in
            continuation.finish(throwing: RedisError(.unavailable, "the Redis subscription connection closed"))
        }
        // SUBSCRIBE's confirmations are pushes (RESP3) or subscriber-mode arrays (RESP2): not replies.
        connection.channel.writeAndFlush(
            RedisRequest(commands: [["SUBSCRIBE"] + channels.map { RedisArgument($0) }], promise: connection.channel.eventLoop.makePromise()),
            promise: nil)
        return RedisSubscription(messages: stream, connection: connection)
    }

    /// Publishes `message` on `channel`; returns how many subscribers received it.
    @discardableResult
    public func publish(_ message: String, to channel: String) async throws -> Int64 {
        try await send("PUBLISH", RedisArgument(channel), RedisArgument(message)).int ?? 0
    }

    /// Closes every connection.
    public func close() async {
        await pool.close()
    }
}

/// A Lua script and its SHA-1, for `EVALSHA`.
public struct RedisScript: Sendable {
    /// What the script does, e.g. `session_check`: its round trips are timed under this name.
    public let name: String
    public let source: String
    public let sha1: String

    /// - Parameters:
    ///   - name: A fixed name for the metrics (letters, digits and `_`).
    ///   - source: The Lua source.
    public init(name: String, _ source: String) {
        self.name = name
        self.source = source
        sha1 = Hex.encode(Insecure.SHA1.hash(data: Array(source.utf8)))
    }
}

/// One pub/sub message.
public struct RedisMessage: Sendable {
    public let channel: String
    public let payload: ByteBuffer
}

/// An active subscription; cancel it to unsubscribe and close its connection.
public struct RedisSubscription: Sendable {
    public let messages: AsyncThrowingStream<RedisMessage, any Error>
    let connection: RedisConnection

    public func cancel() async {
        await connection.close()
    }
}
