import NIOCore
import NIOPosix
import Synchronization

/// A bounded set of connections shared by every caller: requests are multiplexed, each connection
/// carrying many in flight at once (replies come back in order; ``RedisCommandHandler`` matches them).
/// A caller takes the least busy connection, and a new one is opened only while every open one is busy
/// and the bound allows it.
///
/// Connections are kept on the caller's event loop where possible (Warden runs its tasks on NIO's event
/// loops): a caller on loop A takes a connection of loop A, or opens one there, so a request and its
/// Redis reply stay on one thread instead of crossing to another loop and back. Each loop may open its
/// share of the bound (`maximumConnections` divided by the loops, at least one): without shares, a burst
/// on one loop took every connection, and the callers of the other loops then used connections whose
/// replies resumed them on the first loop — in time, every caller ran on one thread.
///
/// A failed connection attempt starts a backoff (doubling up to a maximum) during which calls that have
/// no live connection fail at once with ``RedisError/Code/unavailable`` instead of piling up; the first
/// call after it tries again, so the pool recovers by itself when Redis returns.
final class RedisPool: Sendable {
    private struct Slot {
        let connection: RedisConnection
        var inFlight: Int
    }

    private struct State {
        var slots: [ObjectIdentifier: Slot] = [:]
        var connecting = 0
        /// Connections being opened, by event loop (`ObjectIdentifier` of the loop).
        var connectingOn: [ObjectIdentifier: Int] = [:]
        var retryAt: ContinuousClock.Instant?
        var backoff: Duration
        var closed = false
    }

    private enum Choice {
        case use(RedisConnection)
        case connect((any EventLoop)?)
        case wait
    }

    private let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let loops: [any EventLoop]
    /// How many connections one loop may open.
    private let loopShare: Int
    private let state: Mutex<State>

    init(configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        loops = Array(group.makeIterator())
        loopShare = max(1, configuration.maximumConnections / max(1, loops.count))
        state = Mutex(State(backoff: configuration.initialBackoff))
    }

    func withConnection<T: Sendable>(_ body: @Sendable (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await body(connection)
    }

    /// A connection for a caller on the current event loop (if it is one of this pool's group).
    func lease() async throws -> RedisConnection {
        let current = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loop in loops.contains { $0 === loop } ? loop : nil }
        return try await lease(preferring: current)
    }

    /// A connection for a caller on `current` (`nil`: not on one of this pool's loops); give it back with
    /// ``release(_:)``.
    func lease(preferring current: (any EventLoop)?) async throws -> RedisConnection {
        let deadline = ContinuousClock.now.advanced(by: configuration.leaseTimeout)
        while true {
            switch try choose(current) {
            case .use(let connection):
                return connection
            case .connect(let loop):
                return try await connect(on: loop)
            case .wait:
                // Every slot is being opened right now (a burst at start): wait for one.
                guard ContinuousClock.now < deadline else { throw RedisError(.unavailable, "no Redis connection became ready in time") }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    private func choose(_ current: (any EventLoop)?) throws(RedisError) -> Choice {
        try state.withLock { state throws(RedisError) -> Choice in
            guard !state.closed else { throw RedisError(.unavailable, "the Redis client is closed") }
            if state.slots.values.contains(where: { !$0.connection.isActive }) {
                state.slots = state.slots.filter { $0.value.connection.isActive }
            }
            var local: (key: ObjectIdentifier, slot: Slot)?
            var least: (key: ObjectIdentifier, slot: Slot)?
            var localCount = 0
            for (key, slot) in state.slots {
                if least.map({ slot.inFlight < $0.slot.inFlight }) ?? true { least = (key, slot) }
                if let current, slot.connection.channel.eventLoop === current {
                    localCount += 1
                    if local.map({ slot.inFlight < $0.slot.inFlight }) ?? true { local = (key, slot) }
                }
            }
            // Within the bound, and on a loop within the loop's share.
            var canOpen = state.slots.count + state.connecting < configuration.maximumConnections
            if let current { canOpen = canOpen && localCount + state.connectingOn[ObjectIdentifier(current), default: 0] < loopShare }
            let backingOff = state.retryAt.map { ContinuousClock.now < $0 } ?? false
            // An idle connection on this loop; else a new one on this loop; else the least busy.
            let idle = current == nil ? least : local
            if let idle, idle.slot.inFlight == 0 || !canOpen || backingOff {
                state.slots[idle.key]!.inFlight += 1
                return .use(idle.slot.connection)
            }
            if canOpen, !backingOff {
                state.connecting += 1
                if let current { state.connectingOn[ObjectIdentifier(current), default: 0] += 1 }
                return .connect(current)
            }
            if let chosen = local ?? least {
                state.slots[chosen.key]!.inFlight += 1
                return .use(chosen.slot.connection)
            }
            if canOpen { throw RedisError(.unavailable, "Redis is unreachable (retrying shortly)") }
            return .wait
        }
    }

    private func connect(on loop: (any EventLoop)?) async throws -> RedisConnection {
        do {
            let connection = try await RedisConnection.connect(configuration, group: loop ?? group)
            let closed = state.withLock { state in
                state.connecting -= 1
                if let loop { state.connectingOn[ObjectIdentifier(loop), default: 1] -= 1 }
                state.retryAt = nil
                state.backoff = configuration.initialBackoff
                if !state.closed { state.slots[ObjectIdentifier(connection)] = Slot(connection: connection, inFlight: 1) }
                return state.closed
            }
            if closed {
                await connection.close()
                throw RedisError(.unavailable, "the Redis client is closed")
            }
            return connection
        } catch {
            state.withLock { state in
                state.connecting -= 1
                if let loop { state.connectingOn[ObjectIdentifier(loop), default: 1] -= 1 }
                state.retryAt = ContinuousClock.now.advanced(by: state.backoff)
                state.backoff = min(state.backoff * 2, configuration.maximumBackoff)
            }
            throw error
        }
    }

    func release(_ connection: RedisConnection) {
        let dropped = state.withLock { state -> Bool in
            let id = ObjectIdentifier(connection)
            guard state.slots[id] != nil else { return false }
            state.slots[id]!.inFlight -= 1
            guard !connection.isActive else { return false }
            state.slots[id] = nil
            return true
        }
        if dropped { Task { await connection.close() } }
    }

    func close() async {
        let connections = state.withLock { state in
            state.closed = true
            defer { state.slots = [:] }
            return state.slots.values.map(\.connection)
        }
        for connection in connections { await connection.close() }
    }
}
