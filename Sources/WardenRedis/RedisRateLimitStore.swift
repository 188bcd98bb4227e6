public import Foundation
public import WardenCore

/// Rate-limit counters in Redis, shared by every node: one script per hit or batch of hits (count, and start the window's
/// expiry with the first event).
public final class RedisRateLimitStore: RateLimitStore {
    let client: RedisClient
    let prefix: String

    static let hitScript = RedisScript(
        name: "rate_limit_hit",
        """
        local count = redis.call('INCRBY', KEYS[1], ARGV[2])
        if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
        return {count, ttl}
        """)

    public init(client: RedisClient, prefix: String = "warden") {
        self.client = client
        self.prefix = prefix
    }

    public func hit(key: String, window: TimeInterval, now: Date, count events: Int) async throws -> (count: Int, resets: Date) {
        let reply = try await client.run(Self.hitScript, keys: ["\(prefix):rl:\(key)"], arguments: [RedisArgument(Int64(window * 1000)), RedisArgument(events)])
        guard let values = reply.elements, values.count == 2, let count = values[0].int, let ttl = values[1].int else {
            throw RedisError(.protocolViolation, "unexpected reply to the rate-limit script")
        }
        return (Int(count), now.addingTimeInterval(Double(ttl) / 1000))
    }
}
