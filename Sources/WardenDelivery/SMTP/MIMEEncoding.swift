import Foundation

/// The encodings a text/plain email needs: quoted-printable bodies (RFC 2045 §6.7), encoded-word
/// headers (RFC 2047) and RFC 5322 dates.
enum MIMEEncoding {
    /// Encodes CRLF-separated `lines` as quoted-printable: CRLF stays a hard line break, encoded lines
    /// are at most 76 characters (soft breaks `=` CRLF), whitespace at the end of a line is encoded.
    static func quotedPrintable(_ lines: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(lines.count * 3 / 2)
        let hex = Array("0123456789ABCDEF".utf8)
        var lineLength = 0
        var index = 0
        while index < lines.count {
            let byte = lines[index]
            if byte == 13 && index + 1 < lines.count && lines[index + 1] == 10 {
                result += [13, 10]
                lineLength = 0
                index += 2
                continue
            }
            let isLineEnd = index + 1 == lines.count || (lines[index + 1] == 13 && index + 2 < lines.count && lines[index + 2] == 10)
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLineEnd)
            let token: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            // Leave room for the `=` of a soft break unless this token ends the line.
            let limit = isLineEnd ? 76 : 75
            if lineLength + token.count > limit {
                result += [UInt8(ascii: "="), 13, 10]
                lineLength = 0
            }
            result += token
            lineLength += token.count
            index += 1
        }
        return result
    }

    /// A header value: `text` itself when it is short ASCII that cannot be mistaken for an encoded word,
    /// otherwise RFC 2047 `=?UTF-8?B?…?=` words of at most 75 characters, folded onto continuation lines.
    static func headerText(_ text: String, fieldName: String) -> String {
        let plainFits =
            text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
            && fieldName.utf8.count + 2 + text.utf8.count <= 78
        if plainFits { return text }
        // 45 bytes make 60 base64 characters: with `=?UTF-8?B?` and `?=` a word is 72 characters.
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(encodedWord(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?\(Data(bytes).base64EncodedString())?="
    }

    /// `date` as RFC 5322 §3.3 says, in UTC: `Tue, 03 Jun 2025 09:04:05 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(weekdays[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) "
            + "\(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
