public import WardenCore

/// Why a message was not delivered.
///
/// `message` is safe to show and to log: it names the step that failed and the server's reply code,
/// never a message body, a subject, a password, a token or text the server sent back (a server or an
/// SMS provider may echo the message, and with it a one-time code).
///
/// A thrown `DeliveryError` always means the message does **not** count as sent.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; decides whether trying again later can help.
    ///
    /// An extensible code (``ErrorCode``), not an enum, so that codes can be added without breaking callers.
    public typealias Code = ErrorCode<DeliveryError>

    public let code: Code
    /// A description safe to log: no message content, no credentials.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension ErrorCode where Domain == DeliveryError {
    /// The server could not be reached, did not answer in time, or answered with a transient
    /// failure (SMTP 4xx, HTTP 5xx). Trying again later may work.
    public static var unavailable: Self { Self("delivery.unavailable") }
    /// The server refused this message for good (SMTP 5xx, a bad recipient, HTTP 4xx), or the message
    /// itself is invalid (a line break in a header field, a malformed address). Sending it again
    /// will fail again.
    public static var rejected: Self { Self("delivery.rejected") }
    /// The sender cannot work as configured: TLS was required but not offered or not trusted, the
    /// server offers no usable authentication, the credentials were refused, or the configuration
    /// is invalid. An operator has to act.
    public static var misconfigured: Self { Self("delivery.misconfigured") }
}
