public import Foundation

/// Rules over login and session history that raise a security event, and optionally revoke sessions.
public struct SuspicionRules: Sendable, Equatable {
    /// What a rule does when it fires, beyond the audit event it always records.
    public enum Action: String, Sendable, Equatable {
        /// Record a `security.suspicious_activity` event.
        case record
        /// Also revoke every session of the account (its owner logs in again).
        case revokeAllSessions = "revoke-all"
    }

    public struct Rule: Sendable, Equatable {
        public var action: Action
        public var threshold: Int
        public var window: TimeInterval

        public init(action: Action, threshold: Int = 1, window: TimeInterval = 3600) {
            self.action = action
            self.threshold = threshold
            self.window = window
        }
    }

    /// A login from a device the account has not used before (when it has used others).
    public var newDevice: Rule? = Rule(action: .record)
    /// More than `threshold` distinct addresses within `window` (default 3 in an hour).
    public var manyAddresses: Rule? = Rule(action: .record, threshold: 3, window: 3600)
    /// A refresh token presented twice: its session is always revoked; by default every other too.
    public var refreshReuse = Rule(action: .revokeAllSessions)
    /// At least `threshold` failed logins within `window` (default 5 in an hour).
    public var failedLogins: Rule? = Rule(action: .record, threshold: 5, window: 3600)

    public init() {}
}
