/// What a server advertised in its EHLO reply (RFC 5321 §4.1.1.1): the extensions the client uses.
struct SMTPCapabilities: Sendable, Hashable {
    var startTLS = false
    var eightBitMIME = false
    /// Upper-cased SASL mechanism names from `AUTH` (and the old `AUTH=` form).
    var authMechanisms: Set<String> = []

    init() {}

    /// Reads the extension lines of an EHLO reply; the first line is the server's name and is skipped.
    init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            switch keyword {
            case "STARTTLS": startTLS = true
            case "8BITMIME": eightBitMIME = true
            case "AUTH": authMechanisms.formUnion(words.dropFirst())
            default: break
            }
        }
    }
}
