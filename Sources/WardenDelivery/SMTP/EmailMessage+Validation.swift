extension EmailMessage {
    /// Checks the parts that go into the envelope and the headers.
    ///
    /// - Throws: ``DeliveryError/Code/rejected`` for an address that is not a plain ASCII
    ///   `local@domain`, or a subject with a line break or another control character (header injection).
    func validate() throws(DeliveryError) {
        guard Self.isValidAddress(from) else {
            throw DeliveryError(.rejected, "the sender address is not a valid plain email address")
        }
        guard Self.isValidAddress(to) else {
            throw DeliveryError(.rejected, "the recipient address is not a valid plain email address")
        }
        guard Self.isValidHeaderText(subject) else {
            throw DeliveryError(.rejected, "the subject contains a line break or another control character")
        }
    }

    /// The domain of the sender's address (valid after ``validate()``).
    var senderDomain: String {
        String(from[from.index(after: from.lastIndex(of: "@")!)...])
    }

    /// A dot-atom `local@domain` (RFC 5322 §3.4.1) in ASCII, at most 254 bytes. Quoted local parts,
    /// address literals and internationalised addresses are not supported.
    static func isValidAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")),
            bytes.lastIndex(of: UInt8(ascii: "@")) == at
        else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        let atext = Set("!#$%&'*+-/=?^_`{|}~".utf8)
        let localOK = isDotSeparated(local) { $0.isASCIIAlphanumeric || atext.contains($0) }
        let domainOK = isDotSeparated(domain) { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }
        return localOK && domainOK && local.count <= 64
    }

    /// Text that can go into a header: no C0 control other than tab, no DEL, and none of the Unicode
    /// line and paragraph separators some software treats as line breaks.
    static func isValidHeaderText(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x09: true
            case 0x00...0x1F, 0x7F, 0x80...0x9F, 0x2028, 0x2029: false
            default: true
            }
        }
    }

    private static func isDotSeparated(_ bytes: ArraySlice<UInt8>, allowed: (UInt8) -> Bool) -> Bool {
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return !bytes.isEmpty && labels.allSatisfy { !$0.isEmpty && $0.allSatisfy(allowed) }
    }
}
