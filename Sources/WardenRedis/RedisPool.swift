import NIOCore

/// A bounded set of connections, leased one at a time; waits in order when all are busy.
///
/// A failed connection attempt starts a backoff (doubling up to a maximum) during which leases fail at
/// once with ``RedisError/Code/unavailable`` instead of piling up; the first lease after it tries again,
/// so the pool recovers by itself when Redis returns.
actor RedisPool {
    private let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private var idle: [RedisConnection] = []
    private var open = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<RedisConnection?, any Error>)] = []
    private var nextWaiterID = 0
    private var retryAt: ContinuousClock.Instant?
    private var backoff: Duration
    private var closed = false

    init(configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        backoff = configuration.initialBackoff
    }

    func withConnection<T: Sendable>(_ body: @Sendable (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    private func lease() async throws -> RedisConnection {
        guard !closed else { throw RedisError(.unavailable, "the Redis client is closed") }
        while let connection = idle.popLast() {
            if connection.isActive { return connection }
            open -= 1
        }
        if open < configuration.maximumConnections {
            return try await connect()
        }
        let id = nextWaiterID
        nextWaiterID += 1
        let leased: RedisConnection? = try await withCheckedThrowingContinuation { continuation in
            waiters.append((id, continuation))
            Task { [timeout = configuration.leaseTimeout] in
                try? await Task.sleep(for: timeout)
                self.expire(waiter: id)
            }
        }
        // `nil`: a slot freed up without a connection to hand over (a broken one was dropped).
        if let leased { return leased }
        return try await connect()
    }

    private func connect() async throws -> RedisConnection {
        if let retryAt, ContinuousClock.now < retryAt {
            throw RedisError(.unavailable, "Redis is unreachable (retrying shortly)")
        }
        open += 1
        do {
            let connection = try await RedisConnection.connect(configuration, group: group)
            retryAt = nil
            backoff = configuration.initialBackoff
            return connection
        } catch {
            open -= 1
            retryAt = ContinuousClock.now.advanced(by: backoff)
            backoff = min(backoff * 2, configuration.maximumBackoff)
            handOffSlot()
            throw error
        }
    }

    private func release(_ connection: RedisConnection) {
        guard connection.isActive, !closed else {
            open -= 1
            Task { await connection.close() }
            handOffSlot()
            return
        }
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    /// A slot became free without a connection: let the first waiter open one.
    private func handOffSlot() {
        if !waiters.isEmpty, open < configuration.maximumConnections {
            waiters.removeFirst().continuation.resume(returning: nil)
        }
    }

    private func expire(waiter id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: RedisError(.unavailable, "no Redis connection became free in time"))
    }

    func close() async {
        closed = true
        let connections = idle
        idle = []
        for waiter in waiters { waiter.continuation.resume(throwing: RedisError(.unavailable, "the Redis client is closed")) }
        waiters = []
        for connection in connections { await connection.close() }
    }
}
