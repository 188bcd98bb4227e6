import Foundation

/// A message rendered for SMTP's DATA: headers and a text/plain UTF-8 body, CRLF line endings,
/// dot-stuffed and ending with the `.` line (RFC 5321 §4.5.2).
///
/// Rendered before connecting, in up to two forms: one that is 7-bit clean (plain 7bit, or
/// quoted-printable) for any server, and an 8-bit one for servers that offer 8BITMIME (RFC 6152).
struct MIMEContent: Sendable {
    /// The 7-bit form: always present.
    let sevenBit: [UInt8]
    /// The 8bit form, when the body has non-ASCII text that 8bit can carry (no NUL, lines of at most 998
    /// bytes); `nil` when the 7-bit form is already plain text.
    let eightBit: [UInt8]?

    /// Renders `message`, which must have passed ``EmailMessage/validate()``.
    init(_ message: EmailMessage, date: Date, messageID: String) {
        let body = Self.normalizedLines(Array(message.body.utf8))
        let isASCII = body.allSatisfy { $0 < 0x80 }
        let fitsSMTP = !body.contains(0) && Self.longestLine(body) <= 998
        let headers = { (encoding: String) in
            Self.headers(message, date: date, messageID: messageID, transferEncoding: encoding)
        }
        if isASCII && fitsSMTP {
            sevenBit = Self.dotStuffed(headers("7bit") + body)
            eightBit = nil
        } else {
            sevenBit = Self.dotStuffed(headers("quoted-printable") + MIMEEncoding.quotedPrintable(body))
            eightBit = fitsSMTP ? Self.dotStuffed(headers("8bit") + body) : nil
        }
    }

    static func headers(_ message: EmailMessage, date: Date, messageID: String, transferEncoding: String) -> [UInt8] {
        let lines = [
            "Date: \(MIMEEncoding.rfc5322Date(date))",
            "From: \(message.from)",
            "To: \(message.to)",
            "Subject: \(MIMEEncoding.headerText(message.subject, fieldName: "Subject"))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(transferEncoding)",
        ]
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// `text` with every line ending (CRLF, a bare CR, a bare LF) made CRLF, and a CRLF at the end.
    static func normalizedLines(_ text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count + text.count / 32 + 2)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\r") {
                result += [13, 10]
                if index + 1 < text.count && text[index + 1] == UInt8(ascii: "\n") { index += 1 }
            } else if byte == UInt8(ascii: "\n") {
                result += [13, 10]
            } else {
                result.append(byte)
            }
            index += 1
        }
        if !result.isEmpty && result.suffix(2) != [13, 10] { result += [13, 10] }
        return result
    }

    /// Doubles a `.` that starts a line and adds the terminating `.` line; `lines` ends with CRLF (or is
    /// empty).
    static func dotStuffed(_ lines: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(lines.count + 8)
        var atLineStart = true
        for byte in lines {
            if atLineStart && byte == UInt8(ascii: ".") { result.append(UInt8(ascii: ".")) }
            result.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { result += [13, 10] }
        result += Array(".\r\n".utf8)
        return result
    }

    /// The length in bytes of the longest CRLF-separated line.
    static func longestLine(_ lines: [UInt8]) -> Int {
        var longest = 0
        var current = 0
        for byte in lines {
            if byte == UInt8(ascii: "\n") {
                longest = max(longest, current - 1)
                current = 0
            } else {
                current += 1
            }
        }
        return max(longest, current)
    }
}
