public import Foundation
public import WardenMFA

/// Sends WardenMFA's codes and notices through this module (delivery depends on MFA's message types,
/// never the reverse): email over SMTP (or the development file
/// sender), SMS over the HTTP provider (or the file sender). A channel without a sender is not offered.
public struct DeliveryMessenger: MFAMessenger {
    public let email: (any EmailSender)?
    public let sms: (any SMSSender)?
    /// The `From` address of emails.
    public let from: String

    public init(email: (any EmailSender)?, sms: (any SMSSender)?, from: String) {
        self.email = email
        self.sms = sms
        self.from = from
    }

    public var channels: Set<MFAState.Factor.Kind> {
        var channels: Set<MFAState.Factor.Kind> = []
        if email != nil { channels.insert(.email) }
        if sms != nil { channels.insert(.sms) }
        return channels
    }

    public func deliver(_ channel: MFAState.Factor.Kind, to destination: String, subject: String, body: String) async throws {
        switch channel {
        case .email:
            guard let email else { throw DeliveryError(.misconfigured, "no email sender is configured") }
            try await email.send(EmailMessage(from: from, to: destination, subject: subject, body: body))
        case .sms:
            guard let sms else { throw DeliveryError(.misconfigured, "no SMS sender is configured") }
            try await sms.send(SMSMessage(to: destination, body: body))
        case .totp:
            throw DeliveryError(.misconfigured, "authenticator codes are not sent")
        }
    }
}

/// Tells account owners about changes by email, when the account has an address.
public struct EmailNotifier: MFANotifier {
    let email: any EmailSender
    let from: String
    let address: @Sendable (UUID) async -> String?

    /// - Parameter address: Looks up the account's email address.
    public init(email: any EmailSender, from: String, address: @escaping @Sendable (UUID) async -> String?) {
        self.email = email
        self.from = from
        self.address = address
    }

    public func notify(accountID: UUID, subject: String, body: String) async {
        guard let to = await address(accountID) else { return }
        // A notice that cannot be sent must not undo the change it reports; the sender records the failure.
        try? await email.send(EmailMessage(from: from, to: to, subject: subject, body: body))
    }
}
