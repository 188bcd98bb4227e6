#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The part of a client's address that per-source limits count by.
///
/// An IPv4 address counts whole. An IPv6 address counts by its /64: a single host is routinely given a
/// whole /64, so keying on the full address would let one client rotate through 2^64 keys. An
/// IPv4-mapped IPv6 address counts as its IPv4 address. Anything else (a name, `unknown`) counts as is.
public enum SourceKey {
    public static func of(_ address: String?) -> String {
        guard let address, !address.isEmpty else { return "unknown" }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return address }
        var v6 = in6_addr()
        guard address.utf8.count < 64, inet_pton(AF_INET6, address, &v6) == 1 else { return address }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12..<16].map { String($0) }.joined(separator: ".")
        }
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for (index, byte) in bytes[0..<8].enumerated() {
            if index > 0, index % 2 == 0 { text.append(UInt8(ascii: ":")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self) + "::/64"
    }
}
