/// A text message, as the caller hands it to an ``SMSSender``.
public struct SMSMessage: Sendable, Hashable {
    /// The recipient's number in E.164 form: `+` and up to 15 digits, the first not zero
    /// (`+447700900123`).
    public var to: String
    /// The text; any Unicode.
    public var body: String

    public init(to: String, body: String) {
        self.to = to
        self.body = body
    }
}
