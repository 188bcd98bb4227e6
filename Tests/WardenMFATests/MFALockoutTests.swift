import Foundation
import Testing
import WardenMFA

/// The lockout's rules, one transition per row: where the counters start, the event, what the machine
/// answers and where the counters end. The service tests (`lockoutGrowsAndStopsAtOneHundred`) run the
/// same rules through the stores.
struct MFALockoutTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let rules = MFALockout.Rules(threshold: 5, firstLock: 300, hardStop: 100)

    enum Event: Sendable {
        case admit(after: TimeInterval)
        case fail(String)
        case succeed
        case reset
    }

    enum Outcome: Sendable, Equatable {
        case admission(MFALockout.Admission)
        case failure(MFALockout.FailureAction)
        case none
    }

    struct Transition: Sendable, CustomTestStringConvertible {
        let name: String
        let from: MFAState.Failures
        let event: Event
        let outcome: Outcome
        let to: MFAState.Failures
        var testDescription: String { name }
    }

    static func failures(
        _ consecutive: Int, locks: Int = 0, lockedUntil: TimeInterval? = nil, stopped: TimeInterval? = nil, byKind: [String: Int]? = nil
    ) -> MFAState.Failures {
        var failures = MFAState.Failures()
        failures.consecutive = consecutive
        failures.byKind = byKind ?? (consecutive == 0 ? [:] : ["totp": consecutive])
        failures.locks = locks
        failures.lockedUntil = lockedUntil.map { now.addingTimeInterval($0) }
        failures.stopped = stopped.map { now.addingTimeInterval($0) }
        return failures
    }

    static let transitions: [Transition] = [
        // Admission
        Transition(name: "fresh: proceed", from: failures(0), event: .admit(after: 0), outcome: .admission(.proceed), to: failures(0)),
        Transition(name: "counted failures alone: proceed", from: failures(4), event: .admit(after: 0), outcome: .admission(.proceed), to: failures(4)),
        Transition(
            name: "locked: refused until the lock ends", from: failures(5, locks: 1, lockedUntil: 300), event: .admit(after: 299),
            outcome: .admission(.locked(until: now.addingTimeInterval(300))), to: failures(5, locks: 1, lockedUntil: 300)),
        Transition(
            name: "lock over at its end: proceed", from: failures(5, locks: 1, lockedUntil: 300), event: .admit(after: 300),
            outcome: .admission(.proceed), to: failures(5, locks: 1, lockedUntil: 300)),
        Transition(
            name: "stopped: refused, whatever the lock says", from: failures(100, locks: 19, lockedUntil: -1, stopped: -1), event: .admit(after: 86_400 * 30),
            outcome: .admission(.stopped), to: failures(100, locks: 19, lockedUntil: -1, stopped: -1)),

        // Failures that count, per method and in all
        Transition(name: "first failure: counted", from: failures(0), event: .fail("totp"), outcome: .failure(.counted), to: failures(1)),
        Transition(
            name: "failures of every method count together", from: failures(3, byKind: ["totp": 2, "sms": 1]), event: .fail("backup_code"),
            outcome: .failure(.counted), to: failures(4, byKind: ["totp": 2, "sms": 1, "backup_code": 1])),
        Transition(
            name: "fifth failure: first lock, 5 minutes", from: failures(4), event: .fail("totp"),
            outcome: .failure(.locked(until: now.addingTimeInterval(300), seconds: 300, failures: 5)), to: failures(5, locks: 1, lockedUntil: 300)),
        Transition(
            name: "a lock running out resets nothing", from: failures(5, locks: 1, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.counted), to: failures(6, locks: 1, lockedUntil: -1)),
        Transition(
            name: "tenth failure: second lock, twice as long", from: failures(9, locks: 1, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.locked(until: now.addingTimeInterval(600), seconds: 600, failures: 10)), to: failures(10, locks: 2, lockedUntil: 600)),
        Transition(
            name: "ninth lock: 300 s × 2^8", from: failures(44, locks: 8, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.locked(until: now.addingTimeInterval(76_800), seconds: 76_800, failures: 45)), to: failures(45, locks: 9, lockedUntil: 76_800)),
        Transition(
            name: "tenth lock: capped at a day", from: failures(49, locks: 9, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.locked(until: now.addingTimeInterval(86_400), seconds: 86_400, failures: 50)), to: failures(50, locks: 10, lockedUntil: 86_400)),
        Transition(
            name: "95th failure: the nineteenth lock, still a day", from: failures(94, locks: 18, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.locked(until: now.addingTimeInterval(86_400), seconds: 86_400, failures: 95)), to: failures(95, locks: 19, lockedUntil: 86_400)),
        Transition(
            name: "100th failure: stopped instead of locked", from: failures(99, locks: 19, lockedUntil: -1), event: .fail("totp"),
            outcome: .failure(.stopped(failures: 100)), to: failures(100, locks: 19, lockedUntil: -1, stopped: 0)),

        // Failures that should not have been attempted change nothing
        Transition(
            name: "failure while locked: ignored", from: failures(5, locks: 1, lockedUntil: 300), event: .fail("totp"),
            outcome: .failure(.ignored), to: failures(5, locks: 1, lockedUntil: 300)),
        Transition(
            name: "failure while stopped: ignored", from: failures(100, locks: 19, lockedUntil: -1, stopped: -1), event: .fail("totp"),
            outcome: .failure(.ignored), to: failures(100, locks: 19, lockedUntil: -1, stopped: -1)),

        // Success and reset: a clean slate
        Transition(name: "success clears counts and lock history", from: failures(7, locks: 1, lockedUntil: -1), event: .succeed, outcome: .none, to: failures(0)),
        Transition(name: "reset clears a running lock", from: failures(5, locks: 1, lockedUntil: 300), event: .reset, outcome: .none, to: failures(0)),
        Transition(name: "reset clears the stop", from: failures(100, locks: 19, lockedUntil: -1, stopped: -1), event: .reset, outcome: .none, to: failures(0)),
    ]

    @Test(arguments: transitions)
    func transition(_ row: Transition) {
        var lockout = MFALockout(row.from, rules: Self.rules)
        let outcome: Outcome
        switch row.event {
        case .admit(let after): outcome = .admission(lockout.admit(at: Self.now.addingTimeInterval(after)))
        case .fail(let method): outcome = .failure(lockout.failed(method: method, at: Self.now))
        case .succeed:
            lockout.succeeded()
            outcome = .none
        case .reset:
            lockout.reset()
            outcome = .none
        }
        #expect(outcome == row.outcome)
        #expect(lockout.failures == row.to)
    }

    /// One account failing without end, trying again as soon as each lock ends: the lock lengths and the
    /// stop, as docs/mfa.md states them.
    @Test func failingWithoutEndLocksTwentyTimesThenStops() {
        var lockout = MFALockout(MFAState.Failures(), rules: Self.rules)
        var now = Self.now
        var locks: [TimeInterval] = []
        var stoppedAt: Int?
        for attempt in 1...150 {
            if case .locked(let until) = lockout.admit(at: now) { now = until }
            switch lockout.failed(method: "totp", at: now) {
            case .counted: break
            case .locked(_, let seconds, let failures):
                #expect(failures == attempt)
                locks.append(seconds)
            case .stopped(let failures):
                #expect(failures == attempt)
                stoppedAt = attempt
            case .ignored:
                #expect(stoppedAt != nil, "only a stopped lockout ignores a failure here")
            }
        }
        #expect(locks == [300, 600, 1200, 2400, 4800, 9600, 19_200, 38_400, 76_800] + Array(repeating: 86_400, count: 10))
        #expect(stoppedAt == 100)
        #expect(lockout.admit(at: now.addingTimeInterval(86_400 * 365)) == .stopped)
        #expect(lockout.failures.consecutive == 100)
    }

    /// The threshold and the hard stop come from the policy; the stop wins when both fall on one failure.
    @Test func smallRulesFromThePolicy() {
        var policy = MFAPolicy()
        policy.lockThreshold = 2
        policy.lockDuration = 10
        policy.hardStop = 4
        var lockout = MFALockout(MFAState.Failures(), rules: MFALockout.Rules(policy))
        #expect(lockout.failed(method: "sms", at: Self.now) == .counted)
        #expect(lockout.failed(method: "sms", at: Self.now) == .locked(until: Self.now.addingTimeInterval(10), seconds: 10, failures: 2))
        let later = Self.now.addingTimeInterval(10)
        #expect(lockout.failed(method: "email", at: later) == .counted)
        #expect(lockout.failed(method: "email", at: later) == .stopped(failures: 4))
        #expect(lockout.failures.byKind == ["sms": 2, "email": 2])
    }

    /// Counters written before the machine existed read back as the same lock (the stored form did not change).
    @Test func readsStoredCounters() throws {
        let stored = #"{"byKind":{"totp":3,"sms":2},"consecutive":5,"lockedUntil":1800000300000,"locks":1}"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let failures = try decoder.decode(MFAState.Failures.self, from: Data(stored.utf8))
        let lockout = MFALockout(failures, rules: Self.rules)
        #expect(lockout.admit(at: Self.now) == .locked(until: Self.now.addingTimeInterval(300)))
        #expect(lockout.failures.stopped == nil && lockout.failures.consecutive == 5 && lockout.failures.byKind["sms"] == 2)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(lockout.failures), as: UTF8.self) == #"{"byKind":{"sms":2,"totp":3},"consecutive":5,"lockedUntil":1800000300000,"locks":1}"#)
    }
}
