public import Foundation

/// A source of calendar time.
///
/// Everything in Warden that compares against wall-clock time (key ages, token expiry, legacy Fernet
/// timestamps) asks a `WallClock` instead of calling `Date()`, so tests can move time without sleeping.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Date { Date() }
}
