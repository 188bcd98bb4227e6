import Foundation
import Testing
import WardenCore
import WardenRedis
import WardenTestSupport

/// The per-address limit counted a batch at a time, against a real Redis shared by several "nodes".
@Suite(.serialized)
struct BatchedRateLimitTests {
    /// Threat: batching lets a fleet admit more than the limit. Three nodes, each with its own limiter on
    /// one Redis, 30 concurrent callers per node hammering one address: the fleet admits at most the
    /// limit, and at least the limit minus what each node may hold unused (batch − 1 per node).
    @Test func threeNodesNeverAdmitMoreThanTheLimit() async throws {
        let server = try RedisServer()
        try await server.start()
        let limit = RateLimit(limit: 500, window: 60)
        // 90 callers open each node's pool at once; on a loaded machine (the whole suite in parallel on two
        // cores) that burst can outlast the production lease timeout. This test is about what is admitted, not
        // about the timeout, so it waits longer for a connection.
        var configuration = try RedisConfiguration(url: server.url)
        configuration.leaseTimeout = .seconds(30)
        configuration.connectTimeout = .seconds(10)
        let nodes = (0..<3).map { _ in
            BatchedRateLimiter(limit: limit, store: RedisRateLimitStore(client: RedisClient(configuration: configuration), prefix: "t"))
        }
        #expect(nodes[0].batch == 10)
        let now = Date()
        let outcomes = try await withThrowingTaskGroup(of: (admitted: Int, refused: Int).self) { group in
            for node in nodes {
                for _ in 0..<30 {
                    group.addTask {
                        var outcome = (admitted: 0, refused: 0)
                        for _ in 0..<20 {
                            if try await node.exceeded(key: "http.address:192.0.2.7", now: now) == nil { outcome.admitted += 1 } else { outcome.refused += 1 }
                        }
                        return outcome
                    }
                }
            }
            return try await group.reduce(into: [(admitted: Int, refused: Int)]()) { $0.append($1) }
        }
        let total = outcomes.map(\.admitted).reduce(0, +)
        #expect(total <= 500)
        #expect(total >= 500 - 3 * 9)
        #expect(total + outcomes.map(\.refused).reduce(0, +) == 3 * 30 * 20)
        // Redis counted every admitted request before it was admitted (and the refused reservations).
        let counted = try await RedisClient(configuration: try RedisConfiguration(url: server.url)).send("GET", "t:rl:http.address:192.0.2.7").string.flatMap { Int($0) } ?? 0
        #expect(counted >= total)
        await server.stop()
    }

    /// A spent window is refused from memory (no round trip per refused request), with the time until it
    /// ends; a new window admits again.
    @Test func aSpentWindowIsRefusedLocallyUntilItEnds() async throws {
        let store = CountingStore()
        let limiter = BatchedRateLimiter(limit: RateLimit(limit: 100, window: 60), store: store)
        #expect(limiter.batch == 2)
        let start = Date(timeIntervalSince1970: 1_000_000)
        var admitted = 0
        for _ in 0..<150 where try await limiter.exceeded(key: "a", now: start) == nil { admitted += 1 }
        #expect(admitted == 100)
        let trips = await store.hits
        #expect(trips == 51)  // 50 batches of 2, and the one that found the window spent
        let retry = try await limiter.exceeded(key: "a", now: start.addingTimeInterval(10))
        #expect(retry == 50)
        #expect(await store.hits == trips)
        // Other keys are not affected; the next window admits again.
        #expect(try await limiter.exceeded(key: "b", now: start) == nil)
        #expect(try await limiter.exceeded(key: "a", now: start.addingTimeInterval(61)) == nil)
    }

    /// A limit below 50 is counted one request at a time, exactly as before.
    @Test func smallLimitsAreExact() async throws {
        let limiter = BatchedRateLimiter(limit: RateLimit(limit: 5, window: 60), store: MemoryRateLimitStore())
        #expect(limiter.batch == 1)
        let now = Date()
        var results: [Bool] = []
        for _ in 0..<7 { results.append(try await limiter.exceeded(key: "k", now: now) == nil) }
        #expect(results == [true, true, true, true, true, false, false])
    }
}

/// A memory store that counts its round trips.
actor CountingStore: RateLimitStore {
    let inner = MemoryRateLimitStore()
    var hits = 0

    func hit(key: String, window: TimeInterval, now: Date, count: Int) async throws -> (count: Int, resets: Date) {
        hits += 1
        return await inner.hit(key: key, window: window, now: now, count: count)
    }
}
