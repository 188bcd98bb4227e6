import Foundation
import Synchronization
public import WardenAudit
import WardenCore
public import WardenCrypto

/// Records decryption failures in the audit log (format, reason and context — never input bytes), at
/// most `perMinute` a minute; past that they are counted and the count is recorded with the next entry.
///
/// Hand ``observe(_:)`` to `FieldCipher.Configuration.failureObserver`, then ``attach(_:)`` the audit
/// log once it is open.
public final class DecryptionFailureRecorder: Sendable {
    private struct State {
        var audit: (any AuditAppender)?
        var windowStart = Date.distantPast
        var recorded = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    private let perMinute: Int

    public init(perMinute: Int = 30) {
        self.perMinute = perMinute
    }

    public func attach(_ audit: any AuditAppender) {
        state.withLock { $0.audit = audit }
    }

    /// Counts a failure and, within the rate, records it (asynchronously: the failing call does not wait).
    public func observe(_ failure: DecryptionFailure) {
        let now = Date()
        let entry: (any AuditAppender, Int)? = state.withLock { state in
            guard let audit = state.audit else { return nil }
            if now.timeIntervalSince(state.windowStart) >= 60 {
                state.windowStart = now
                state.recorded = 0
            }
            guard state.recorded < perMinute else {
                state.dropped += 1
                return nil
            }
            state.recorded += 1
            let dropped = state.dropped
            state.dropped = 0
            return (audit, dropped)
        }
        guard let (audit, dropped) = entry else { return }
        var details = ["format": failure.format, "reason": failure.reason.rawValue, "context": String(failure.context.prefix(200))]
        if dropped > 0 { details["unrecorded_before"] = String(dropped) }
        let event = AuditEvent(time: now, action: "crypto.decryption_failed", outcome: .failure, actor: "system", details: details)
        Task { try? await audit.append([event]) }
    }
}
