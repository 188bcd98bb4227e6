public import Foundation

/// When repeated failed password logins lock an account's password logins (never its sessions).
public struct LoginPolicy: Sendable, Equatable {
    /// Consecutive failed password checks that start a lock (default 10); every further `lockThreshold`
    /// failures start a longer one.
    public var lockThreshold: Int
    /// How long the first lock lasts (default 15 minutes); each later lock doubles it.
    public var lockDuration: TimeInterval
    /// The longest a lock lasts (default 24 hours).
    public var maximumLockDuration: TimeInterval
    /// Consecutive failures after which password logins stop until an administrator unlocks the account
    /// or the owner logs in from a trusted device (default 100, NIST SP 800-63B's ceiling).
    public var failureCeiling: Int

    public init(lockThreshold: Int = 10, lockDuration: TimeInterval = 15 * 60, maximumLockDuration: TimeInterval = 24 * 3600, failureCeiling: Int = 100) {
        self.lockThreshold = max(1, lockThreshold)
        self.lockDuration = lockDuration
        self.maximumLockDuration = max(lockDuration, maximumLockDuration)
        self.failureCeiling = max(self.lockThreshold, failureCeiling)
    }

    /// Why password logins from an untrusted device are refused now (`locked`, `stopped`), or `nil`.
    public func lock(failures: Int, lockedUntil: Date?, now: Date) -> String? {
        if failures >= failureCeiling { return "stopped" }
        if let lockedUntil, lockedUntil > now { return "locked" }
        return nil
    }

    /// When a lock that starts at `failures` consecutive failures ends, or `nil` if none starts there.
    public func lockStart(failures: Int, now: Date) -> Date? {
        guard failures >= lockThreshold, failures < failureCeiling, failures % lockThreshold == 0 else { return nil }
        let doublings = min(30, failures / lockThreshold - 1)
        return now.addingTimeInterval(min(maximumLockDuration, lockDuration * pow(2, Double(doublings))))
    }
}
