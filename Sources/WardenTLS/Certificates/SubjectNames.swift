#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks and encodes the names a generated certificate is issued for.
///
/// Everything is checked before a key is generated, so a typo fails at once with a message naming the
/// bad entry instead of after seconds of RSA work or, worse, in a client's hostname check later.
enum SubjectNames {
    /// The upper bound X.520 sets on a common name (`ub-common-name`).
    static let maximumCommonNameLength = 64

    /// Checks a subject common name: 1–64 printable ASCII characters.
    static func checkCommonName(_ name: String) throws(TLSSetupError) {
        guard !name.isEmpty, name.utf8.count <= maximumCommonNameLength,
            name.utf8.allSatisfy({ (0x20...0x7E).contains($0) })
        else {
            throw TLSSetupError(
                .invalidName,
                "the common name must be 1 to \(maximumCommonNameLength) printable ASCII characters")
        }
    }

    /// Checks a DNS name for a `dNSName` subject alternative name: a host name of letters, digits and
    /// hyphens in dot-separated labels of 1–63 characters, at most 253 characters in all, optionally
    /// starting with a `*.` wildcard label. A trailing dot is refused: certificates name hosts without it.
    static func checkDNSName(_ name: String) throws(TLSSetupError) {
        func invalid(_ reason: String) -> TLSSetupError {
            TLSSetupError(.invalidName, "'\(printable(name))' is not a valid DNS name for a certificate: \(reason)")
        }
        guard !name.isEmpty else { throw invalid("it is empty") }
        guard name.utf8.count <= 253 else { throw invalid("it is longer than 253 characters") }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if index == 0, label == "*", labels.count > 1 { continue }
            guard !label.isEmpty else { throw invalid("it has an empty label") }
            guard label.utf8.count <= 63 else { throw invalid("a label is longer than 63 characters") }
            guard label.utf8.allSatisfy(isLetterDigitOrHyphen) else {
                throw invalid("only letters, digits, hyphens and dots are allowed")
            }
            guard label.first != "-", label.last != "-" else {
                throw invalid("a label starts or ends with a hyphen")
            }
        }
    }

    /// The network-order bytes of a literal IPv4 address (4 bytes) or IPv6 address (16 bytes), as an
    /// `iPAddress` subject alternative name holds them.
    ///
    /// IPv4 must be in dotted-quad form (`127.0.0.1`); IPv6 in any RFC 4291 text form, including
    /// `::ffff:192.0.2.1`, which stays a 16-byte IPv6 address. Zone indexes (`fe80::1%eth0`), prefix
    /// lengths, brackets and surrounding spaces are refused.
    static func ipAddressBytes(_ text: String) throws(TLSSetupError) -> [UInt8] {
        // A NUL inside the string would end the C string early and let `127.0.0.1\0junk` through.
        if !text.isEmpty, !text.utf8.contains(0) {
            var v4 = in_addr()
            if inet_pton(AF_INET, text, &v4) == 1 {
                return withUnsafeBytes(of: &v4) { Array($0) }
            }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, text, &v6) == 1 {
                return withUnsafeBytes(of: &v6) { Array($0) }
            }
        }
        throw TLSSetupError(
            .invalidIPAddress,
            "'\(printable(text))' is not an IPv4 address (like 127.0.0.1) or an IPv6 address (like ::1)")
    }

    private static func isLetterDigitOrHyphen(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// The input as it may appear in a message: control characters escaped, length bounded.
    private static func printable(_ text: String) -> String {
        let shown = text.unicodeScalars.prefix(80).map { scalar in
            scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }.joined()
        return text.unicodeScalars.count > 80 ? shown + "…" : shown
    }
}
