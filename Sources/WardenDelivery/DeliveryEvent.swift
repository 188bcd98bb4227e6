public import Foundation
import WardenCore

/// What became of one delivery attempt, for the audit log.
///
/// Every sender reports each attempt to its event handler before `send` returns or throws, so a
/// failure is both an error for the caller and a security event. Events carry facts, never secrets:
/// no body, subject, password, token or recipient (the caller knows who it was sending to and can add
/// the account to the audit record).
///
/// ```swift
/// let sender = SMTPSender(configuration: configuration, onEvent: { event in
///     await audit.append(AuditEvent(
///         time: event.time, action: event.action, outcome: event.error == nil ? .success : .failure,
///         actor: "system", details: event.details))
/// })
/// ```
public struct DeliveryEvent: Sendable, Equatable {
    /// How the message was to travel.
    public enum Channel: String, Sendable, Hashable {
        case email
        case sms
    }

    /// When the attempt ended.
    public var time: Date
    public var channel: Channel
    /// Which sender made the attempt: `smtp`, `http-sms` or `file`.
    public var transport: String
    /// Why it failed; `nil` when the message was sent.
    public var error: DeliveryError?

    public init(time: Date, channel: Channel, transport: String, error: DeliveryError?) {
        self.time = time
        self.channel = channel
        self.transport = transport
        self.error = error
    }

    /// `delivery.sent` or `delivery.failed`, in the audit log's `area.verb` form.
    public var action: String { error == nil ? "delivery.sent" : "delivery.failed" }

    /// The facts as audit details: `channel`, `transport` and, for a failure, `code` and `reason`.
    public var details: [String: String] {
        var details = ["channel": channel.rawValue, "transport": transport]
        if let error {
            details["code"] = error.code.rawValue
            details["reason"] = error.message
        }
        return details
    }
}

/// Receives every ``DeliveryEvent``; awaited before `send` returns, so a failure is recorded before the
/// caller hears of it.
public typealias DeliveryEventHandler = @Sendable (DeliveryEvent) async -> Void
