import Crypto
import WardenCore
public import NIOCore
import NIOPosix
import Synchronization

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

    public init(configuration: RedisConfiguration, group: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        let group = group ?? MultiThreadedEventLoopGroup.singleton
        self.group = group
        pool = RedisPool(configuration: configuration, group: group)
    }

    /// Sends one command. An error reply throws ``RedisError/Code/server``.
    @discardableResult
    public func send(_ command: [RedisArgument]) async throws -> RESPValue {
        sent.add(1, ordering: .relaxed)
        return try await pool.withConnection { try await $0.send(command) }
    }

    @discardableResult
    public func send(_ command: RedisArgument...) async throws -> RESPValue {
        try await send(command)
    }

    /// Sends several commands in one round trip. Error replies come back as ``RESPValue/error(_:)`` in
    /// their place; they do not throw.
    public func pipeline(_ commands: [[RedisArgument]]) async throws -> [RESPValue] {
        sent.add(1, ordering: .relaxed)
        return try await pool.withConnection { try await $0.sendRaw(commands) }
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` when the server does not have it
    /// cached (after a restart or `SCRIPT FLUSH`).
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        let tail: [RedisArgument] = [RedisArgument(keys.count)] + keys.map { RedisArgument($0) } + arguments
        do {
            return try await send(["EVALSHA", RedisArgument(script.sha1)] + tail)
        } catch let error as RedisError where error.isNoScript {
            return try await send(["EVAL", RedisArgument(script.source)] + tail)
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
    public let source: String
    public let sha1: String

    public init(_ source: String) {
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
