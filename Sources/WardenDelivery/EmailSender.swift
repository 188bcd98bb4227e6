/// Something that delivers an ``EmailMessage``: ``SMTPSender`` in production, ``FileSender`` in
/// development.
///
/// ```swift
/// let sender: any EmailSender = SMTPSender(configuration: SMTPConfiguration(
///     host: "smtp.example.com", username: "warden", password: smtpPassword))
/// try await sender.send(EmailMessage(
///     from: "warden@example.com", to: "ada@example.com",
///     subject: "Your sign-in code", body: "Your code is \(code)."))
/// ```
public protocol EmailSender: Sendable {
    /// Delivers one message.
    ///
    /// Returns only once the message has been handed over (an SMTP server accepted it with `250`, or
    /// the line is in the outbox).
    ///
    /// - Throws: ``DeliveryError`` and nothing else; the message then does not count as sent.
    func send(_ message: EmailMessage) async throws(DeliveryError)
}

/// Something that delivers an ``SMSMessage``: ``HTTPSMSSender`` in production, ``FileSender`` in
/// development.
public protocol SMSSender: Sendable {
    /// Delivers one text message.
    ///
    /// Returns only once the provider accepted the message (a 2xx answer), or the line is in the outbox.
    ///
    /// - Throws: ``DeliveryError`` and nothing else; the message then does not count as sent.
    func send(_ message: SMSMessage) async throws(DeliveryError)
}
