import Foundation

/// A command the client sends (RFC 5321 §4.1, RFC 3207, RFC 4954).
///
/// Commands that carry credentials say so: their `verb` is all that is ever logged or put in an error.
enum SMTPCommand: Sendable, Hashable, CustomStringConvertible {
    case ehlo(String)
    case startTLS
    /// `AUTH PLAIN` with the RFC 4616 initial response.
    case authPlain(username: String, password: String)
    case authLogin
    /// One base64 line answering an `AUTH LOGIN` prompt.
    case authLoginResponse(String)
    case mail(from: String, eightBitMIME: Bool)
    case recipient(String)
    case data
    case quit

    /// The command's name, safe to log.
    var verb: String {
        switch self {
        case .ehlo: "EHLO"
        case .startTLS: "STARTTLS"
        case .authPlain, .authLogin, .authLoginResponse: "AUTH"
        case .mail: "MAIL FROM"
        case .recipient: "RCPT TO"
        case .data: "DATA"
        case .quit: "QUIT"
        }
    }

    /// The verb only: a command interpolated into a string must not print credentials.
    var description: String { verb }

    /// The command line, CRLF included.
    var line: String {
        switch self {
        case .ehlo(let name): "EHLO \(name)\r\n"
        case .startTLS: "STARTTLS\r\n"
        case .authPlain(let username, let password):
            // RFC 4616: authorization identity (empty), NUL, authentication identity, NUL, password.
            "AUTH PLAIN \(Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString())\r\n"
        case .authLogin: "AUTH LOGIN\r\n"
        case .authLoginResponse(let text): "\(Data(text.utf8).base64EncodedString())\r\n"
        case .mail(let from, let eightBitMIME): "MAIL FROM:<\(from)>\(eightBitMIME ? " BODY=8BITMIME" : "")\r\n"
        case .recipient(let address): "RCPT TO:<\(address)>\r\n"
        case .data: "DATA\r\n"
        case .quit: "QUIT\r\n"
        }
    }
}
