import NIOCore

/// Frames SMTP replies out of a byte stream, including multi-line replies (`250-…` lines ending with a
/// `250 …` line).
///
/// Feed it bytes in any chunks: a reply split across reads, or several replies in one read, come out
/// the same. Lines end with CRLF; a bare LF is accepted too. Limits keep a hostile server from making
/// the client buffer without end.
struct SMTPReplyParser: Sendable {
    /// The longest reply line accepted, line ending included. RFC 5321 allows 512; real servers send
    /// longer EHLO lines now and then.
    static let maximumLineLength = 2048
    /// The most lines one reply may have.
    static let maximumLines = 256

    enum ParseError: Error, Equatable {
        case lineTooLong
        case tooManyLines
        case malformedLine
        case inconsistentCode
    }

    private var code: Int?
    private var lines: [String] = []

    /// Whether part of a multi-line reply has been read and the rest is still to come.
    var hasPartialReply: Bool { code != nil }

    /// Reads the next complete reply from `buffer`, consuming its bytes; `nil` when more bytes are
    /// needed (the lines read so far are kept).
    mutating func parse(_ buffer: inout ByteBuffer) throws(ParseError) -> SMTPReply? {
        while true {
            let view = buffer.readableBytesView
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                if view.count >= Self.maximumLineLength { throw .lineTooLong }
                return nil
            }
            let length = newline - view.startIndex + 1
            guard length <= Self.maximumLineLength else { throw .lineTooLong }
            var line = Array(buffer.readBytes(length: length)!.dropLast())
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let (lineCode, isLast, text) = try Self.split(line)
            if let code, code != lineCode { throw .inconsistentCode }
            code = lineCode
            lines.append(text)
            if isLast {
                let reply = SMTPReply(code: lineCode, lines: lines)
                code = nil
                lines = []
                return reply
            }
            guard lines.count < Self.maximumLines else { throw .tooManyLines }
        }
    }

    /// `250-text`, `250 text` or `250` into its parts.
    private static func split(_ line: [UInt8]) throws(ParseError) -> (code: Int, isLast: Bool, text: String) {
        guard line.count >= 3, line[0] >= UInt8(ascii: "2"), line[0] <= UInt8(ascii: "5"),
            line[1...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { throw .malformedLine }
        let code = line[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        if line.count == 3 { return (code, true, "") }
        switch line[3] {
        case UInt8(ascii: " "): return (code, true, String(decoding: line[4...], as: UTF8.self))
        case UInt8(ascii: "-"): return (code, false, String(decoding: line[4...], as: UTF8.self))
        default: throw .malformedLine
        }
    }
}
