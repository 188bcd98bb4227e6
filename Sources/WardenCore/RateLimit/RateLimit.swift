public import Foundation

/// Counts events per key in fixed windows, shared by every node that uses the same store.
public protocol RateLimitStore: Sendable {
    /// Counts one event for `key` in the window of `window` seconds that contains `now` (windows start
    /// when the first event of a key arrives), atomically. Returns the count including this event and when
    /// the window ends.
    func hit(key: String, window: TimeInterval, now: Date) async throws -> (count: Int, resets: Date)
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

    public func hit(key: String, window: TimeInterval, now: Date) -> (count: Int, resets: Date) {
        if windows.count > 100_000 { windows = windows.filter { $0.value.start.addingTimeInterval(window) > now } }
        var entry = windows[key] ?? (now, 0)
        if entry.start.addingTimeInterval(window) <= now { entry = (now, 0) }
        entry.count += 1
        windows[key] = entry
        return (entry.count, entry.start.addingTimeInterval(window))
    }
}
