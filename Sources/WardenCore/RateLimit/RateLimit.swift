public import Foundation
import Synchronization

/// Counts events per key in fixed windows, shared by every node that uses the same store.
public protocol RateLimitStore: Sendable {
    /// Counts `count` events for `key` in the window of `window` seconds that contains `now` (windows start
    /// when the first event of a key arrives), atomically. Returns the count including these events and
    /// when the window ends.
    func hit(key: String, window: TimeInterval, now: Date, count: Int) async throws -> (count: Int, resets: Date)
}

extension RateLimitStore {
    /// Counts one event.
    public func hit(key: String, window: TimeInterval, now: Date) async throws -> (count: Int, resets: Date) {
        try await hit(key: key, window: window, now: now, count: 1)
    }
}

/// At most `limit` events per `window` seconds.
public struct RateLimit: Sendable, Equatable, Codable {
    public var limit: Int
    public var window: TimeInterval

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Counts an event; returns `nil` if it is allowed, or the seconds until the window resets.
    public func exceeded(key: String, in store: any RateLimitStore, now: Date) async throws -> TimeInterval? {
        let (count, resets) = try await store.hit(key: key, window: window, now: now)
        return count > limit ? max(1, resets.timeIntervalSince(now).rounded(.up)) : nil
    }
}

/// Rate-limit counters in memory, for tests and a single process.
public actor MemoryRateLimitStore: RateLimitStore {
    private var windows: [String: (start: Date, count: Int)] = [:]

    public init() {}

    public func hit(key: String, window: TimeInterval, now: Date, count: Int) -> (count: Int, resets: Date) {
        if windows.count > 100_000 { windows = windows.filter { $0.value.start.addingTimeInterval(window) > now } }
        var entry = windows[key] ?? (now, 0)
        if entry.start.addingTimeInterval(window) <= now { entry = (now, 0) }
        entry.count += count
        windows[key] = entry
        return (entry.count, entry.start.addingTimeInterval(window))
    }
}

/// A limit counted in the shared store a batch at a time: a node reserves `batch` events of a key's window
/// in one round trip and admits that many requests from memory, so a request costs a round trip only once
/// per batch (and a key whose window is spent is refused from memory until the window ends).
///
/// - Important: Every admitted event was counted in the store first, so the limit is never exceeded, on
///   any number of nodes. The error is the other way: a node may end a window holding up to `batch - 1`
///   reserved events it did not use, so the whole fleet admits at least `limit - nodes × (batch - 1)` per
///   window. The default batch is 1/50 of the limit (at most 100): at most 2% per node under the limit.
public final class BatchedRateLimiter: Sendable {
    private struct Allowance {
        var remaining: Int
        var resets: Date
        /// The store refused part of the last reservation: the window is spent everywhere.
        var spent: Bool
    }

    public let limit: RateLimit
    public let batch: Int
    private let store: any RateLimitStore
    private let maximumKeys: Int
    private let allowances = Mutex<[String: Allowance]>([:])

    /// - Parameters:
    ///   - batch: Events reserved per round trip (default `limit / 50`, between 1 and 100).
    ///   - maximumKeys: Keys remembered at most; past it, the ended windows are forgotten (and if that
    ///     is not enough, every key is: their next request reserves again, which is only slower).
    public init(limit: RateLimit, store: any RateLimitStore, batch: Int? = nil, maximumKeys: Int = 100_000) {
        self.limit = limit
        self.store = store
        self.batch = max(1, batch ?? min(100, limit.limit / 50))
        self.maximumKeys = maximumKeys
    }

    /// Counts an event; returns `nil` if it is allowed, or the seconds until the window resets.
    public func exceeded(key: String, now: Date) async throws -> TimeInterval? {
        let local: TimeInterval?? = allowances.withLock { allowances in
            guard var allowance = allowances[key], allowance.resets > now else { return nil }
            if allowance.remaining > 0 {
                allowance.remaining -= 1
                allowances[key] = allowance
                return .some(nil)
            }
            return allowance.spent ? .some(Self.retry(allowance.resets, now)) : nil
        }
        if let local { return local }

        let (count, resets) = try await store.hit(key: key, window: limit.window, now: now, count: batch)
        let granted = max(0, min(batch, limit.limit - (count - batch)))
        return allowances.withLock { allowances -> TimeInterval? in
            if allowances.count >= maximumKeys {
                allowances = allowances.filter { $0.value.resets > now }
                if allowances.count >= maximumKeys { allowances.removeAll(keepingCapacity: true) }
            }
            var allowance = allowances[key].flatMap { $0.resets > now ? $0 : nil } ?? Allowance(remaining: 0, resets: resets, spent: false)
            allowance.remaining += granted
            allowance.resets = max(allowance.resets, resets)
            allowance.spent = allowance.spent || granted < batch
            defer { allowances[key] = allowance }
            guard allowance.remaining > 0 else { return Self.retry(allowance.resets, now) }
            allowance.remaining -= 1
            return nil
        }
    }

    private static func retry(_ resets: Date, _ now: Date) -> TimeInterval {
        max(1, resets.timeIntervalSince(now).rounded(.up))
    }
}
