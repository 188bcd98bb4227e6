public import Foundation

/// A security-relevant event, as it is appended to the audit log.
///
/// Events carry facts, never secrets: no passwords, keys, codes, tokens or plaintexts, in any field.
/// `details` holds further non-secret facts (a key version, a role name, the reason a login failed).
public struct AuditEvent: Sendable, Hashable, Codable {
    /// What happened to the action.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case success
        case failure
        case denied
    }

    /// When it happened (UTC; stored with millisecond precision).
    public var time: Date
    /// What happened, as `area.verb`: `account.created`, `login.failed`, `key.rotated`.
    public var action: String
    public var outcome: Outcome
    /// Who did it: `account:<id>`, `cli:<user>`, `system`.
    public var actor: String
    /// What it was done to: `account:<id>`, `role:<name>`, `key:<version>`.
    public var subject: String?
    /// The client's network address, when there is one.
    public var sourceAddress: String?
    /// The request that caused it, when there is one.
    public var requestID: String?
    /// Further non-secret facts.
    public var details: [String: String]

    public init(
        time: Date, action: String, outcome: Outcome, actor: String, subject: String? = nil,
        sourceAddress: String? = nil, requestID: String? = nil, details: [String: String] = [:]
    ) {
        self.time = StoredInstant(truncating: time).date
        self.action = action
        self.outcome = outcome
        self.actor = actor
        self.subject = subject
        self.sourceAddress = sourceAddress
        self.requestID = requestID
        self.details = details
    }

    /// `time` in whole milliseconds since 1970: the stored and hashed form.
    public var timeMilliseconds: Int64 {
        StoredInstant(time).milliseconds
    }

    /// An event time from its stored form.
    public static func time(milliseconds: Int64) -> Date {
        StoredInstant(milliseconds: milliseconds).date
    }
}

/// Who is acting and from where: passed to every operation that writes audit events.
public struct AuditContext: Sendable, Hashable {
    public var actor: String
    public var sourceAddress: String?
    public var requestID: String?

    public init(actor: String, sourceAddress: String? = nil, requestID: String? = nil) {
        self.actor = actor
        self.sourceAddress = sourceAddress
        self.requestID = requestID
    }

    /// An event by this actor.
    public func event(
        _ action: String, _ outcome: AuditEvent.Outcome = .success, subject: String? = nil,
        details: [String: String] = [:], at time: Date
    ) -> AuditEvent {
        AuditEvent(
            time: time, action: action, outcome: outcome, actor: actor, subject: subject,
            sourceAddress: sourceAddress, requestID: requestID, details: details)
    }
}
