/// A plain-text email, as the caller hands it to an ``EmailSender``.
///
/// Addresses are bare (`ada@example.com`, no display name) and ASCII. Header fields and addresses
/// must not contain line breaks or other control characters: senders refuse such a message with
/// ``DeliveryError/Code/rejected`` before they connect, because a line break in a header is how
/// header injection (an added `Bcc:`) works.
public struct EmailMessage: Sendable, Hashable {
    /// The sender's address (`MAIL FROM` and the `From:` header).
    public var from: String
    /// The one recipient's address (`RCPT TO` and the `To:` header).
    public var to: String
    /// The subject line; any Unicode text without control characters.
    public var subject: String
    /// The body, plain text; any line endings (they are sent as CRLF).
    public var body: String

    public init(from: String, to: String, subject: String, body: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
    }
}
