#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about a configured host name, decided from its text alone (never by resolving it: a name that
/// resolves to 127.0.0.1 today may not tomorrow).
enum HostAddress {
    /// Whether `host` is certainly this machine: `localhost`, an address in 127.0.0.0/8, or `::1`
    /// (with or without brackets).
    ///
    /// Only such hosts may be reached without TLS or be sent credentials over plaintext.
    static func isLoopback(_ host: String) -> Bool {
        let bare = unbracketed(host)
        if bare.lowercased() == "localhost" || bare.lowercased() == "localhost." { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, bare, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// Whether `host` is a literal IPv4 or IPv6 address rather than a name.
    static func isIPAddress(_ host: String) -> Bool {
        let bare = unbracketed(host)
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    /// `host` without the brackets an IPv6 literal has in URLs.
    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Whether `host` is plausible as a host name or address: not empty, at most 253 bytes, no
    /// whitespace, control characters or URL delimiters.
    static func isWellFormed(_ host: String) -> Bool {
        let bytes = Array(unbracketed(host).utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"/?#@\\ <>\"'".utf8.contains(byte)
        }
    }
}
