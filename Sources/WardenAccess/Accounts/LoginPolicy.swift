public import Foundation

/// When repeated failed logins lock an account.
public struct LoginPolicy: Sendable, Equatable {
    /// Consecutive failed password checks that lock the account (default 10).
    public var lockThreshold: Int
    /// How long a lock lasts (default 15 minutes); an administrator can lift it earlier (`users enable`).
    public var lockDuration: TimeInterval

    public init(lockThreshold: Int = 10, lockDuration: TimeInterval = 15 * 60) {
        self.lockThreshold = lockThreshold
        self.lockDuration = lockDuration
    }
}
