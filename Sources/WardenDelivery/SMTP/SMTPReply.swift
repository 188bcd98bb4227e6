/// One SMTP reply: a three-digit code and its text lines (RFC 5321 §4.2).
struct SMTPReply: Sendable, Hashable {
    /// The reply code, 200–599 (validated by the parser).
    let code: Int
    /// The text of each line, without the code, the separator and the line ending.
    let lines: [String]

    var isPositiveCompletion: Bool { (200..<300).contains(code) }
    var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    var isTransientFailure: Bool { (400..<500).contains(code) }
    var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The enhanced status code (RFC 3463) at the start of the first line, such as `5.1.1`, if there is
    /// one. The only part of a reply's text that goes into errors: the rest may echo what we sent.
    var enhancedStatus: String? {
        guard let first = lines.first?.split(separator: " ", maxSplits: 1).first else { return nil }
        let parts = first.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]),
            parts.dropFirst().allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        return String(first)
    }

    /// `550 5.1.1` or `550`: the code and the enhanced status, for error messages.
    var summary: String {
        enhancedStatus.map { "\(code) \($0)" } ?? String(code)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
