import NIOCore
import Synchronization

/// Routing for a Redis Cluster: the slot map learnt from `CLUSTER SLOTS`, a connection pool per primary,
/// `MOVED` (the map changed: learn it, go there) and `ASK` (a slot migrating: ask the target once).
///
/// Warden's keys put every key of one account under one hash tag (`{<account>}`), so every script and
/// pipeline touches one slot; a key without a tag is its own slot.
final class RedisCluster: Sendable {
    static let slotCount = 16_384

    private struct State {
        /// The primary serving each slot, as `host:port` (nil: not known yet).
        var slots = [String?](repeating: nil, count: RedisCluster.slotCount)
        var pools: [String: RedisPool] = [:]
        var lastRefresh: ContinuousClock.Instant?
        var closed = false
    }

    private let base: RedisConfiguration
    private let seeds: [String]
    private let group: any EventLoopGroup
    private let state = Mutex(State())
    /// The map refresh under way, which every caller that needs the map waits for.
    private let inFlight = Mutex<Task<Void, any Error>?>(nil)

    init(configuration: RedisConfiguration, seeds: [String], group: any EventLoopGroup) {
        base = configuration
        self.seeds = seeds
        self.group = group
    }

    /// The slot of a key: CRC16 (XMODEM) of its hash tag (the text between the first `{` and the next
    /// `}`, if not empty) or of the whole key, modulo 16384.
    static func slot(of key: [UInt8]) -> Int {
        var hashed = key[...]
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            hashed = key[(open + 1)..<close]
        }
        var crc: UInt16 = 0
        for byte in hashed {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) % slotCount
    }

    /// The slot a command's keys are in, or nil for a command without keys (any node answers it).
    static func slot(of command: [RedisArgument]) -> Int? {
        guard let name = command.first.map(RedisClient.commandName) else { return nil }
        switch name {
        case "EVALSHA", "EVAL":
            guard command.count > 3, let count = Int(String(decoding: command[2].bytes, as: UTF8.self)), count > 0 else { return nil }
            return slot(of: command[3].bytes)
        case "INFO", "PING", "PUBLISH", "SUBSCRIBE", "CLUSTER", "SCRIPT", "HELLO", "AUTH", "SELECT", "ASKING", "READONLY", "SAVE", "FLUSHALL", "DBSIZE":
            return nil
        default:
            return command.count > 1 ? slot(of: command[1].bytes) : nil
        }
    }

    /// The pool of the primary serving `slot` (any known primary for nil), learning the map first if needed.
    func pool(forSlot slot: Int?) async throws -> (address: String, pool: RedisPool) {
        if let found = lookup(slot) { return found }
        try await refresh(force: true)
        if let found = lookup(slot) { return found }
        throw RedisError(.unavailable, "no Redis Cluster node serves this slot")
    }

    /// The pool of the node at `address` (from a `MOVED` or `ASK` redirection).
    func pool(at address: String) throws(RedisError) -> RedisPool {
        try state.withLock { state throws(RedisError) -> RedisPool in
            guard !state.closed else { throw RedisError(.unavailable, "the Redis client is closed") }
            return pool(address, in: &state)
        }
    }

    /// `MOVED <slot> <host:port>`: the slot is served there from now on.
    func moved(slot: Int, to address: String) {
        guard (0..<Self.slotCount).contains(slot) else { return }
        state.withLock { $0.slots[slot] = address }
    }

    /// Every primary's pool (for commands every primary must answer: the instance ids).
    func primaries() async throws -> [RedisPool] {
        if lookup(nil) == nil { try await refresh(force: true) }
        return state.withLock { state in Set(state.slots.compactMap { $0 }).sorted().map { pool($0, in: &state) } }
    }

    private func lookup(_ slot: Int?) -> (address: String, pool: RedisPool)? {
        state.withLock { state -> (String, RedisPool)? in
            guard !state.closed else { return nil }
            let address = slot.flatMap { state.slots[$0] } ?? (slot == nil ? state.slots.lazy.compactMap { $0 }.first : nil)
            return address.map { ($0, pool($0, in: &state)) }
        }
    }

    private func pool(_ address: String, in state: inout State) -> RedisPool {
        if let pool = state.pools[address] { return pool }
        var configuration = base
        let (host, port) = Self.split(address)
        configuration.host = host
        configuration.port = port ?? base.port
        let pool = RedisPool(configuration: configuration, group: group)
        state.pools[address] = pool
        return pool
    }

    /// Learns the slot map from the first node that answers `CLUSTER SLOTS` (known primaries first, then
    /// the seeds). Without `force`, at most once a second (a failover makes many requests ask at once);
    /// callers that arrive during a refresh wait for it.
    func refresh(force: Bool = false) async throws {
        let now = ContinuousClock.now
        let due = state.withLock { state in force || state.lastRefresh.map { now - $0 > .seconds(1) } ?? true }
        guard due else { return }
        let task = inFlight.withLock { current -> Task<Void, any Error> in
            if let current { return current }
            let task = Task { try await self.load() }
            current = task
            return task
        }
        defer { inFlight.withLock { if $0 == task { $0 = nil } } }
        try await task.value
    }

    private func load() async throws {
        let now = ContinuousClock.now
        let known = state.withLock { Array(Set($0.slots.compactMap { $0 })).sorted() }
        var lastError: any Error = RedisError(.unavailable, "no Redis Cluster node answered")
        for address in known + seeds.filter({ !known.contains($0) }) {
            do {
                let reply = try await pool(at: address).withConnection { try await $0.send(["CLUSTER", "SLOTS"]) }
                var slots = [String?](repeating: nil, count: Self.slotCount)
                for range in reply.elements ?? [] {
                    guard let fields = range.elements, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                        let node = fields[2].elements, node.count >= 2, let port = node[1].int,
                        start >= 0, end < Self.slotCount, start <= end
                    else { continue }
                    let host = node[0].string.flatMap { $0.isEmpty ? nil : $0 } ?? Self.split(address).host
                    let primary = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                    for slot in Int(start)...Int(end) { slots[slot] = primary }
                }
                guard slots.contains(where: { $0 != nil }) else { continue }
                state.withLock { state in
                    state.slots = slots
                    state.lastRefresh = now
                }
                return
            } catch {
                lastError = error
            }
        }
        state.withLock { $0.lastRefresh = now }
        throw lastError
    }

    func close() async {
        let pools = state.withLock { state in
            state.closed = true
            return Array(state.pools.values)
        }
        for pool in pools { await pool.close() }
    }

    static func split(_ address: String) -> (host: String, port: Int?) {
        // `host:port`, or `[v6]:port`.
        guard let colon = address.lastIndex(of: ":") else { return (address, nil) }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, Int(address[address.index(after: colon)...]))
    }
}
