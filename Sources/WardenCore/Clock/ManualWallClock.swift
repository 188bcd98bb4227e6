public import Foundation
import Synchronization

/// A wall clock that only moves when told to: the test double for ``WallClock``.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    /// Creates a clock showing `date`.
    public init(_ date: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(date)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward (or backward, with a negative interval).
    public func advance(by interval: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(interval) }
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
