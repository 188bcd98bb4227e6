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
/// Redis reply stay on one thread instead of crossing to another loop and back.
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
    private let state: Mutex<State>

    init(configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        state = Mutex(State(backoff: configuration.initialBackoff))
    }

    func withConnection<T: Sendable>(_ body: @Sendable (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await body(connection)
    }

    private func lease() async throws -> RedisConnection {
        let deadline = ContinuousClock.now.advanced(by: configuration.leaseTimeout)
        while true {
            switch try choose() {
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

    private func choose() throws(RedisError) -> Choice {
        // The caller's event loop, if it runs on one of this client's group (else any loop will do).
        let current = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loop in
            group.makeIterator().contains { $0 === loop } ? loop : nil
        }
        return try state.withLock { state throws(RedisError) -> Choice in
            guard !state.closed else { throw RedisError(.unavailable, "the Redis client is closed") }
            if state.slots.values.contains(where: { !$0.connection.isActive }) {
                state.slots = state.slots.filter { $0.value.connection.isActive }
            }
            var local: (key: ObjectIdentifier, slot: Slot)?
            var least: (key: ObjectIdentifier, slot: Slot)?
            for (key, slot) in state.slots {
                if least.map({ slot.inFlight < $0.slot.inFlight }) ?? true { least = (key, slot) }
                if let current, slot.connection.channel.eventLoop === current, local.map({ slot.inFlight < $0.slot.inFlight }) ?? true {
                    local = (key, slot)
                }
            }
            let canOpen = state.slots.count + state.connecting < configuration.maximumConnections
            let backingOff = state.retryAt.map { ContinuousClock.now < $0 } ?? false
            // An idle connection on this loop; else a new one on this loop; else the least busy.
            let idle = current == nil ? least : local
            if let idle, idle.slot.inFlight == 0 || !canOpen || backingOff {
                state.slots[idle.key]!.inFlight += 1
                return .use(idle.slot.connection)
            }
            if canOpen, !backingOff {
                state.connecting += 1
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
                state.retryAt = ContinuousClock.now.advanced(by: state.backoff)
                state.backoff = min(state.backoff * 2, configuration.maximumBackoff)
            }
            throw error
        }
    }

    private func release(_ connection: RedisConnection) {
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
