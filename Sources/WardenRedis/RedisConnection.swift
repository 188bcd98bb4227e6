import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to Redis: commands are written in order and answered in order (pipelining), and
/// RESP3 push messages (pub/sub) go to a separate handler.
final class RedisConnection: Sendable {
    let channel: any Channel
    private let commandTimeout: Duration
    /// The server's `run_id`, read once when the connection is made: it changes whenever the server
    /// restarts, and a restart always ends the connection, so a connection speaks to one instance.
    private let runID = Mutex("")
    var instanceID: String { runID.withLock { $0 } }

    private init(channel: any Channel, commandTimeout: Duration) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    var isActive: Bool { channel.isActive }

    /// Connects, upgrades to RESP3 with `HELLO 3` (falling back to RESP2), authenticates and selects the
    /// database.
    static func connect(
        _ configuration: RedisConfiguration, group: any EventLoopGroup, onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws -> RedisConnection {
        let sslContext = try configuration.useTLS ? NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.init(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: configuration.host)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        let shapes = ReplyShapes()
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(RESPDecodingHandler(limits: configuration.replyLimits, shapes: shapes)))
                        try channel.pipeline.syncOperations.addHandler(
                            RedisCommandHandler(onPush: onPush, shapes: shapes, commandTimeout: configuration.commandTimeout))
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw RedisError(.unavailable, "cannot connect to Redis at \(configuration.host):\(configuration.port)")
        }
        let connection = RedisConnection(channel: channel, commandTimeout: configuration.commandTimeout)
        do {
            try await connection.handshake(configuration)
        } catch {
            try? await channel.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration) async throws {
        var hello: [RedisArgument] = ["HELLO", "3"]
        if let password = configuration.password {
            hello += ["AUTH", RedisArgument(configuration.username ?? "default"), RedisArgument(password)]
        }
        let reply = try await sendRaw([hello]).first!
        if case .error(let message) = reply {
            // Servers before Redis 6 have no HELLO: RESP2 with AUTH. Anything else (wrong password) is final.
            guard message.hasPrefix("ERR unknown command") || message.hasPrefix("NOPROTO") else {
                throw RedisError(.unavailable, message.hasPrefix("WRONGPASS") ? "Redis refused the credentials" : "Redis refused the connection")
            }
            if let password = configuration.password {
                var auth: [RedisArgument] = ["AUTH"]
                if let username = configuration.username { auth.append(RedisArgument(username)) }
                auth.append(RedisArgument(password))
                _ = try await send(auth)
            }
        }
        if configuration.database != 0 {
            _ = try await send(["SELECT", RedisArgument(configuration.database)])
        }
        let info = try await send(["INFO", "server"]).string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run_id:") }
        runID.withLock { $0 = line.map { String($0.dropFirst("run_id:".count)) } ?? "" }
    }

    /// Sends one command; an error reply throws.
    func send(_ command: [RedisArgument]) async throws -> RESPValue {
        let reply = try await sendRaw([command]).first!
        if case .error(let message) = reply { throw RedisError(.server, message) }
        return reply
    }

    /// Sends commands in one write and returns their replies in order; error replies are returned as values.
    /// With `unparsed`, replies that are arrays come back as ``RESPValue/frame(_:)``.
    func sendRaw(_ commands: [[RedisArgument]], unparsed: Bool = false) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        // The command handler enforces the deadline (one timer per connection, not one per command).
        let deadline = NIODeadline.now() + TimeAmount(commandTimeout)
        // A write to a connection that has just closed never reaches the handler: fail the request at
        // once instead of at the timeout (completing the promise twice is a no-op).
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in promise.fail(RedisError(.unavailable, "the Redis connection closed")) }
        channel.writeAndFlush(RedisRequest(commands: commands, unparsed: unparsed, deadline: deadline, promise: promise), promise: written)
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// Commands to write and the promise their replies complete.
struct RedisRequest {
    let commands: [[RedisArgument]]
    /// Whether the replies that are arrays are wanted unparsed (``RESPValue/frame(_:)``).
    let unparsed: Bool
    /// When the replies are due; past it the connection is closed and every command waiting on it fails
    /// (the replies would no longer line up with their commands). `nil`: no deadline (`SUBSCRIBE`, whose
    /// confirmations are not replies).
    let deadline: NIODeadline?
    let promise: EventLoopPromise<[RESPValue]>
}

/// Whether each reply still expected on a connection is wanted unparsed, in the order the commands were
/// written: the command handler adds to it, the decoder takes from it. Both run on the connection's event
/// loop, and only there.
final class ReplyShapes {
    private var unparsed = CircularBuffer<Bool>(initialCapacity: 16)

    func expect(_ count: Int, unparsed wanted: Bool) {
        for _ in 0..<count { unparsed.append(wanted) }
    }

    /// Whether the next reply is wanted unparsed.
    var next: Bool { unparsed.first ?? false }

    /// A reply arrived (not a push).
    func answered() {
        if !unparsed.isEmpty { unparsed.removeFirst() }
    }

    func removeAll() { unparsed.removeAll() }
}

/// Frames RESP values out of the byte stream. The parser keeps its place in an incomplete reply between
/// reads, and refuses a reply over its limits (the connection is then closed). A reply that is an array
/// comes out unparsed when its command asked for that (``ReplyShapes``).
struct RESPDecodingHandler: ByteToMessageDecoder {
    typealias InboundOut = RESPValue
    private var parser: RESPParser
    private let shapes: ReplyShapes

    init(limits: RESPParser.Limits, shapes: ReplyShapes = ReplyShapes()) {
        parser = RESPParser(limits: limits)
        self.shapes = shapes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer, unparsedArrays: shapes.next) else { return .needMoreData }
        // Push messages answer no command.
        if case .push = value {} else { shapes.answered() }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }
}

/// Matches replies to requests in order; hands push messages to `onPush`; fails everything pending when
/// the connection ends.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let promise: EventLoopPromise<[RESPValue]>
        var remaining: Int
        var replies: [RESPValue]
        let deadline: NIODeadline?
    }

    private var pending: [Pending] = []
    private var pendingStart = 0
    /// Why the connection is being closed, for the commands still waiting when it goes.
    private var closingError: RedisError?
    private var flushScheduled = false
    private let onPush: (@Sendable (RESPValue) -> Void)?
    private let shapes: ReplyShapes
    private let commandTimeout: Duration
    /// The one timer that checks the oldest waiting command's deadline (armed while commands wait).
    private var watch: Scheduled<Void>?

    init(onPush: (@Sendable (RESPValue) -> Void)?, shapes: ReplyShapes, commandTimeout: Duration) {
        self.onPush = onPush
        self.shapes = shapes
        self.commandTimeout = commandTimeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { RESPEncoder.encode(command, into: &buffer) }
        pending.append(Pending(promise: request.promise, remaining: request.commands.count, replies: [], deadline: request.deadline))
        shapes.expect(request.commands.count, unparsed: request.unparsed)
        if watch == nil, let deadline = request.deadline { watch(context: context, at: deadline) }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Coalesces flushes: the first flush in an event-loop turn is deferred to the end of the tasks
    /// already queued, so requests from many concurrent callers go out in one write (and Redis reads
    /// them as one pipeline).
    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            loopBound.value.handler.flushScheduled = false
            loopBound.value.context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if case .push = value {
            onPush?(value)
            return
        }
        // In RESP2 subscriber mode, messages arrive as plain arrays.
        if let onPush, pendingStart == pending.count, case .array(let elements?) = value,
            let kind = elements.first?.string, ["message", "pmessage", "subscribe", "unsubscribe", "psubscribe"].contains(kind)
        {
            onPush(.push(elements))
            return
        }
        guard pendingStart < pending.count else {
            context.fireErrorCaught(RedisError(.protocolViolation, "Redis sent a reply nobody asked for"))
            return
        }
        pending[pendingStart].replies.append(value)
        pending[pendingStart].remaining -= 1
        if pending[pendingStart].remaining == 0 {
            // The replies leave the queue with the promise: they hold slices of the connection's read
            // buffers, which an answered entry waiting to be dropped would keep alive.
            var replies: [RESPValue] = []
            swap(&replies, &pending[pendingStart].replies)
            let promise = pending[pendingStart].promise
            pendingStart += 1
            if pendingStart > 64, pendingStart * 2 > pending.count {
                pending.removeFirst(pendingStart)
                pendingStart = 0
            }
            promise.succeed(replies)
        }
    }

    /// Arms the timer for `deadline`. When it fires: past the oldest waiting command's deadline, the
    /// connection is closed and every waiting command fails; otherwise the timer is armed again for that
    /// deadline (deadlines are in write order), or left unarmed when nothing waits. So a busy connection
    /// schedules one timer per timeout period, not one per command.
    private func watch(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        watch = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.watch = nil
            guard let oldest = handler.pending[handler.pendingStart...].lazy.compactMap(\.deadline).first else { return }
            guard oldest <= .now() else { return handler.watch(context: context, at: oldest) }
            let failure = RedisError(.unavailable, "Redis did not answer within \(handler.commandTimeout)")
            handler.closingError = handler.closingError ?? failure
            context.close(promise: nil)
            handler.failAll(failure)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch?.cancel()
        watch = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: RedisError
        switch error {
        case let error as RESPParser.Error where error.code == .limitExceeded:
            failure = RedisError(.protocolViolation, "Redis sent a reply over the configured limits (\(error.reason)); the connection was closed")
        case let error as RESPParser.Error:
            failure = RedisError(.protocolViolation, "Redis sent malformed data (\(error.reason))")
        default:
            failure = RedisError(.unavailable, "the Redis connection failed")
        }
        // Closed before the waiting commands hear of it, so that none of them is retried on this
        // connection; they get the reason, not just "closed".
        closingError = closingError ?? failure
        context.close(promise: nil)
        failAll(failure)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch?.cancel()
        watch = nil
        failAll(closingError ?? RedisError(.unavailable, "the Redis connection closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: RedisError) {
        let waiting = pending[pendingStart...]
        pending = []
        pendingStart = 0
        shapes.removeAll()
        for request in waiting { request.promise.fail(error) }
    }
}
