public import CoreMetrics
import Crypto
public import NIOCore
import NIOPosix
import Synchronization
import Tracing
import WardenCore

/// A Redis client: a bounded connection pool, pipelining, Lua scripts by SHA with a fallback when the
/// server's script cache is empty, and pub/sub.
///
/// - Important: Every failure to reach Redis — refused connection, lost connection, timeout — is a
///   ``RedisError`` with code ``RedisError/Code/unavailable``; callers must treat it as "fail closed".
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    let group: any EventLoopGroup
    private let nodes: Nodes
    private let sent = Atomic<Int>(0)

    /// One server, or a Redis Cluster's primaries.
    private enum Nodes: Sendable {
        case single(RedisPool)
        case cluster(RedisCluster)
    }

    /// Round trips made so far (a command, or a pipeline of them): what the request path is measured in.
    public var roundTrips: Int { sent.load(ordering: .relaxed) }

    /// Round-trip latency (`warden_redis_command_duration_seconds`) by command or script name, never by key.
    private let timers: RoundTripTimers

    /// - Parameter metrics: Where round trips are timed; the process-wide swift-metrics factory by default.
    public init(configuration: RedisConfiguration, group: (any EventLoopGroup)? = nil, metrics: (any MetricsFactory)? = nil) {
        self.configuration = configuration
        let group = group ?? MultiThreadedEventLoopGroup.singleton
        self.group = group
        nodes =
            configuration.clusterSeeds.isEmpty
            ? .single(RedisPool(configuration: configuration, group: group))
            : .cluster(RedisCluster(configuration: configuration, seeds: configuration.clusterSeeds, group: group))
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
    private func send(
        _ command: [RedisArgument], timedAs name: String, admitting admit: Admission? = nil, unparsed: Bool = false
    ) async throws -> RESPValue {
        let operation = command.first.map(Self.commandName) ?? "other"
        let reply = try await WardenTracing.span("redis " + operation, ofKind: .client) { span in
            if let span {
                span.attributes["db.system.name"] = "redis"
                span.attributes["db.operation.name"] = operation
                if name != operation { span.attributes["warden.redis.script"] = name }
            }
            return try await execute([command], timedAs: name, admitting: admit, unparsed: unparsed)[0]
        }
        if case .error(let message) = reply { throw RedisError(.server, message) }
        return reply
    }

    /// Writes `commands` in one round trip and returns their replies (error replies as values). On a
    /// cluster, commands go to the primary of their keys' slot (all of one call share a slot, or the
    /// call is split by slot), following `MOVED` and `ASK`.
    private func execute(
        _ commands: [[RedisArgument]], timedAs name: String, admitting admit: Admission?, unparsed: Bool = false
    ) async throws -> [RESPValue] {
        switch nodes {
        case .single(let pool):
            return try await pool.withConnection { connection in
                try admit?(connection.instanceID)
                sent.add(1, ordering: .relaxed)
                return try await self.timers.measure(name) { try await connection.sendRaw(commands, unparsed: unparsed) }
            }
        case .cluster(let cluster):
            let slots = commands.map(RedisCluster.slot(of:))
            let distinct = Set(slots.compactMap { $0 })
            guard distinct.count <= 1 else {
                // Keys in several slots: one round trip per slot, replies put back in order.
                var replies = [RESPValue?](repeating: nil, count: commands.count)
                for slot in distinct.sorted() {
                    let indices = commands.indices.filter { slots[$0] == slot || (slots[$0] == nil && slot == distinct.min()) }
                    let answered = try await routed(
                        indices.map { commands[$0] }, slot: slot, cluster: cluster, timedAs: name, admitting: admit, unparsed: unparsed)
                    for (index, reply) in zip(indices, answered) { replies[index] = reply }
                }
                return replies.map { $0 ?? .null }
            }
            return try await routed(commands, slot: distinct.first, cluster: cluster, timedAs: name, admitting: admit, unparsed: unparsed)
        }
    }

    private func routed(
        _ commands: [[RedisArgument]], slot: Int?, cluster: RedisCluster, timedAs name: String, admitting admit: Admission?, unparsed: Bool
    ) async throws -> [RESPValue] {
        var pool = try await cluster.pool(forSlot: slot).pool
        var asking = false
        // Only the commands that were redirected are sent again (the others ran and keep their replies);
        // after `ASK`, each is preceded by its own `ASKING`, which covers only the command after it.
        var replies = [RESPValue](repeating: .null, count: commands.count)
        var pending = Array(commands.indices)
        for _ in 0..<5 {
            let answered: [RESPValue]
            do {
                let (ask, batch) = (asking, pending.map { commands[$0] })
                answered = try await pool.withConnection { connection in
                    try admit?(connection.instanceID)
                    sent.add(1, ordering: .relaxed)
                    return try await self.timers.measure(name) {
                        guard ask else { return try await connection.sendRaw(batch, unparsed: unparsed) }
                        let interleaved = try await connection.sendRaw(batch.flatMap { [["ASKING"], $0] }, unparsed: unparsed)
                        return stride(from: 1, to: interleaved.count, by: 2).map { interleaved[$0] }
                    }
                }
            } catch let error as RedisError where error.code == .unavailable {
                // The node may have failed: learn the map again (at most once a second) for the next call.
                Task { try? await cluster.refresh() }
                throw error
            }
            var redirect: Redirect?
            var redirected: [Int] = []
            for (index, reply) in zip(pending, answered) {
                if let found = Redirect(reply) {
                    redirect = redirect ?? found
                    redirected.append(index)
                } else {
                    replies[index] = reply
                }
            }
            guard let redirect else {
                if replies.contains(where: { if case .error(let message) = $0 { message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") } else { false } }) {
                    throw RedisError(.unavailable, "the Redis Cluster cannot serve this slot right now")
                }
                return replies
            }
            pending = redirected
            switch redirect {
            case .moved(let slot, let address):
                cluster.moved(slot: slot, to: address)
                Task { try? await cluster.refresh() }
                pool = try cluster.pool(at: address)
                asking = false
            case .ask(let address):
                pool = try cluster.pool(at: address)
                asking = true
            }
        }
        throw RedisError(.unavailable, "the Redis Cluster redirected the command too often")
    }

    /// A cluster's redirection reply.
    private enum Redirect {
        case moved(slot: Int, address: String)
        case ask(address: String)

        init?(_ reply: RESPValue) {
            guard case .error(let message) = reply else { return nil }
            let parts = message.split(separator: " ")
            guard parts.count == 3, let slot = Int(parts[1]) else { return nil }
            switch parts[0] {
            case "MOVED": self = .moved(slot: slot, address: String(parts[2]))
            case "ASK": self = .ask(address: String(parts[2]))
            default: return nil
            }
        }
    }

    /// The `run_id` of every server answering for this client: the one server, or each primary of a
    /// cluster. Any of them restarting (or a replica taking over) changes the list.
    public func instanceIDs() async throws -> [String] {
        let pools: [RedisPool] =
            switch nodes {
            case .single(let pool): [pool]
            case .cluster(let cluster): try await cluster.primaries()
            }
        var ids: [String] = []
        for pool in pools {
            ids.append(try await pool.withConnection { $0.instanceID })
        }
        return ids.sorted()
    }

    /// Decides, before a command is written, whether the server instance of the connection it would go
    /// on (its `run_id`) may answer it; throwing stops the command unsent.
    public typealias Admission = @Sendable (_ instanceID: String) throws -> Void

    /// Sends one command only if `admit` accepts the server instance it would reach.
    @discardableResult
    public func send(_ command: [RedisArgument], admitting admit: @escaping Admission) async throws -> RESPValue {
        try await send(command, timedAs: command.first.map(Self.commandName) ?? "other", admitting: admit)
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
    public func pipeline(_ commands: [[RedisArgument]], admitting admit: Admission? = nil) async throws -> [RESPValue] {
        try await WardenTracing.span("redis pipeline", ofKind: .client) { span in
            span?.attributes["db.system.name"] = "redis"
            span?.attributes["db.operation.batch.size"] = commands.count
            return try await execute(commands, timedAs: "pipeline", admitting: admit)
        }
    }

    /// Runs a Lua script by its SHA-1 (`EVALSHA`), loading it with `EVAL` when the server does not have it
    /// cached (after a restart or `SCRIPT FLUSH`).
    ///
    /// With `unparsed`, a reply that is an array comes back as ``RESPValue/frame(_:)`` (its bytes, checked
    /// but not built into values), for a caller that reads the shape it expects straight from them; other
    /// replies (errors, nulls) come back parsed as usual.
    @discardableResult
    public func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument], admitting admit: Admission? = nil, unparsed: Bool = false
    ) async throws -> RESPValue {
        let tail: [RedisArgument] = [RedisArgument(keys.count)] + keys.map { RedisArgument($0) } + arguments
        do {
            return try await send(["EVALSHA", RedisArgument(script.sha1)] + tail, timedAs: script.name, admitting: admit, unparsed: unparsed)
        } catch let error as RedisError where error.isNoScript {
            return try await send(["EVAL", RedisArgument(script.source)] + tail, timedAs: script.name, admitting: admit, unparsed: unparsed)
        }
    }

    /// One call of a Lua script, for ``run(_:concurrency:chunk:)``.
    public struct ScriptCall: Sendable {
        public let script: RedisScript
        public let keys: [String]
        public let arguments: [RedisArgument]

        public init(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) {
            self.script = script
            self.keys = keys
            self.arguments = arguments
        }
    }

    /// Runs many script calls, pipelined: `chunk` calls per round trip (one per slot of the chunk on a
    /// cluster), at most `concurrency` round trips in flight. Calls are put in slot order first, so that a
    /// chunk spans few slots. Replies come back in the calls' order, error replies as values; a script the
    /// server's cache lacks is sent once more with its source.
    ///
    /// For bulk work whose calls are independent of one another (a ledger replay), never for a request.
    public func run(_ calls: [ScriptCall], concurrency: Int = 8, chunk: Int = 256) async throws -> [RESPValue] {
        func command(_ call: ScriptCall, source: Bool) -> [RedisArgument] {
            [source ? "EVAL" : "EVALSHA", RedisArgument(source ? call.script.source : call.script.sha1), RedisArgument(call.keys.count)]
                + call.keys.map { RedisArgument($0) } + call.arguments
        }
        let slots = calls.map { $0.keys.first.map { RedisCluster.slot(of: Array($0.utf8)) } ?? 0 }
        let order = calls.indices.sorted { (slots[$0], $0) < (slots[$1], $1) }
        let chunks = stride(from: 0, to: order.count, by: max(1, chunk)).map { Array(order[$0..<min($0 + max(1, chunk), order.count)]) }
        var replies = [RESPValue](repeating: .null, count: calls.count)
        try await withThrowingTaskGroup(of: [(Int, RESPValue)].self) { group in
            var next = 0
            func start() {
                guard next < chunks.count else { return }
                let indices = chunks[next]
                next += 1
                group.addTask {
                    var answered = try await self.execute(indices.map { command(calls[$0], source: false) }, timedAs: "replay", admitting: nil)
                    let missing = answered.indices.filter { if case .error(let message) = answered[$0] { message.hasPrefix("NOSCRIPT") } else { false } }
                    if !missing.isEmpty {
                        let again = try await self.execute(missing.map { command(calls[indices[$0]], source: true) }, timedAs: "replay", admitting: nil)
                        for (position, reply) in zip(missing, again) { answered[position] = reply }
                    }
                    return Array(zip(indices, answered))
                }
            }
            for _ in 0..<max(1, concurrency) { start() }
            while let done = try await group.next() {
                for (index, reply) in done { replies[index] = reply }
                start()
            }
        }
        return replies
    }

    /// Subscribes to channels on a connection of its own. Messages arrive on the returned subscription
    /// until it is cancelled (or the connection is lost, which ends the stream with an error).
    public func subscribe(to channels: [String]) async throws -> RedisSubscription {
        let (stream, continuation) = AsyncThrowingStream<RedisMessage, any Error>.makeStream()
        let connection = try await RedisConnection.connect(configuration, group: group) { push in
            guard let elements = push.elements, elements.count == 3, elements[0].string == "message",
                let channel = elements[1].string, case .bulkString(let payload?) = elements[2]
            else { return }
            // A copy: a slice would keep the connection's read buffer while the message waits in the stream.
            continuation.yield(RedisMessage(channel: channel, payload: ByteBuffer(bytes: payload.readableBytesView)))
        }
        connection.channel.closeFuture.whenComplete { _ in
            continuation.finish(throwing: RedisError(.unavailable, "the Redis subscription connection closed"))
        }
        // SUBSCRIBE's confirmations are pushes (RESP3) or subscriber-mode arrays (RESP2): not replies.
        connection.channel.writeAndFlush(
            RedisRequest(
                commands: [["SUBSCRIBE"] + channels.map { RedisArgument($0) }], unparsed: false, deadline: nil,
                promise: connection.channel.eventLoop.makePromise()),
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
        switch nodes {
        case .single(let pool): await pool.close()
        case .cluster(let cluster): await cluster.close()
        }
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
