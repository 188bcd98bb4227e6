public import Foundation

/// The MFA lockout of one account, as a plain value: each event (a verification about to run, a
/// failure, a success, an administrator's reset) returns what the caller does — refuse, audit a lock —
/// and the new counters, which the caller stores. No I/O and no clock of its own, so every rule is a
/// plain unit test.
///
/// The rules (docs/mfa.md, "Lockout and rate limits"):
/// - Every failed verification counts, whatever the factor; only a success or a reset clears the count
///   (a lock running out does not, nor does requesting a new code).
/// - Every ``Rules/threshold`` consecutive failures (5) lock MFA: the first lock lasts
///   ``Rules/firstLock`` (5 minutes), each further one twice the one before, up to
///   ``Rules/longestLock`` (a day).
/// - At ``Rules/hardStop`` consecutive failures (100, NIST SP 800-63B §5.2.2) MFA stops until an
///   administrator resets it; the stop takes the place of the lock that count would have caused.
/// - While locked or stopped nothing is checked and nothing is counted: a right code is refused too.
///
/// The counters are ``MFAState/Failures``, stored with the rest of ``MFAState`` exactly as before this
/// type existed.
///
/// - Important: Callers ask ``admit(at:)`` before checking a code, and report the outcome with
///   ``failed(method:at:)`` or ``succeeded()`` inside the same atomic update of ``MFAState``; the
///   counters are then exact however many nodes verify at once.
public struct MFALockout: Sendable, Equatable {
    /// The numbers the rules use; ``MFAPolicy`` holds the configured ones.
    public struct Rules: Sendable, Equatable {
        /// Consecutive failures per lock.
        public var threshold: Int
        /// The first lock's length.
        public var firstLock: TimeInterval
        /// Consecutive failures that stop MFA until a reset.
        public var hardStop: Int
        /// No lock lasts longer than this (a day).
        public var longestLock: TimeInterval = 86_400

        public init(threshold: Int, firstLock: TimeInterval, hardStop: Int) {
            self.threshold = threshold
            self.firstLock = firstLock
            self.hardStop = hardStop
        }

        public init(_ policy: MFAPolicy) {
            self.init(threshold: policy.lockThreshold, firstLock: policy.lockDuration, hardStop: policy.hardStop)
        }
    }

    /// Whether a verification may run.
    public enum Admission: Sendable, Equatable {
        case proceed
        /// Locked until the date: refuse, with the time left as the retry time.
        case locked(until: Date)
        /// Stopped until an administrator resets it: refuse, with no retry time.
        case stopped
    }

    /// What a failure leads to, beyond being counted.
    public enum FailureAction: Sendable, Equatable {
        /// Counted; no lock yet.
        case counted
        /// This failure locked MFA for `seconds`: audit `mfa.locked` with the failures and the length.
        case locked(until: Date, seconds: TimeInterval, failures: Int)
        /// This failure stopped MFA: audit `mfa.stopped` with the failures.
        case stopped(failures: Int)
        /// MFA was already locked or stopped, so the attempt should not have run: nothing was counted.
        case ignored
    }

    /// The counters, to store back into ``MFAState/failures`` after an event.
    public private(set) var failures: MFAState.Failures
    public let rules: Rules

    public init(_ failures: MFAState.Failures, rules: Rules) {
        self.failures = failures
        self.rules = rules
    }

    /// Whether a verification may run at `now`.
    public func admit(at now: Date) -> Admission {
        if failures.stopped != nil { return .stopped }
        if let until = failures.lockedUntil, until > now { return .locked(until: until) }
        return .proceed
    }

    /// A verification with `method` (a ``MFAService/Method`` raw value, or `confirm`) failed at `now`.
    public mutating func failed(method: String, at now: Date) -> FailureAction {
        guard admit(at: now) == .proceed else { return .ignored }
        failures.byKind[method, default: 0] += 1
        failures.consecutive += 1
        if failures.consecutive >= rules.hardStop {
            failures.stopped = now
            return .stopped(failures: failures.consecutive)
        }
        guard failures.consecutive % rules.threshold == 0 else { return .counted }
        failures.locks += 1
        let seconds = min(rules.longestLock, rules.firstLock * pow(2, Double(failures.locks - 1)))
        let until = now.addingTimeInterval(seconds)
        failures.lockedUntil = until
        return .locked(until: until, seconds: seconds, failures: failures.consecutive)
    }

    /// A verification succeeded: every counter and lock is cleared.
    public mutating func succeeded() {
        failures = MFAState.Failures()
    }

    /// An administrator cleared the lock or the stop (`warden mfa reset`): the same clean slate as a success.
    public mutating func reset() {
        failures = MFAState.Failures()
    }
}
