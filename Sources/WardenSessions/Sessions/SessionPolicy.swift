public import Foundation

/// Session lifetimes and limits.
public struct SessionPolicy: Sendable, Equatable {
    /// What happens when an account already has `maximumSessions`.
    public enum WhenFull: String, Sendable, Equatable {
        /// The least recently active sessions are revoked to make room (default).
        case evictOldest = "evict-oldest"
        /// The new login is refused.
        case denyNew = "deny-new"
    }

    /// Access token lifetime (default 15 minutes).
    public var accessTokenLifetime: TimeInterval = 15 * 60
    /// Refresh token lifetime, and the session's absolute lifetime (default 30 days).
    public var refreshTokenLifetime: TimeInterval = 30 * 86_400
    /// Inactivity that ends a session (default 7 days); activity extends it, never past the absolute
    /// lifetime.
    public var idleTimeout: TimeInterval = 7 * 86_400
    /// Live sessions per account (default 10).
    public var maximumSessions = 10
    public var whenFull = WhenFull.evictOldest
    /// Revoked-session rows the durable ledger keeps per account (default 1000). Past it, the oldest are
    /// folded into the account's watermark: growth is bounded, and a folded session still never comes
    /// back (a live session older than the folded revocations ends too).
    public var maximumRevokedSessions = 1000

    public init() {}
}
