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
        guard let bytes = Self.bytes(address) else { return address }
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for (index, byte) in bytes[0..<8].enumerated() {
            if index > 0, index % 2 == 0 { text.append(UInt8(ascii: ":")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self) + "::/64"
    }

    /// The address's bytes: 4 for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; `nil` for anything else.
    public static func bytes(_ address: String) -> [UInt8]? {
        guard address.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12..<16]) }
        return bytes
    }

    /// Whether `address` is `entry`: the same address, or inside the CIDR block `entry` names (IPv4 or
    /// IPv6, e.g. `10.0.0.0/8`, `fd00::/8`).
    public static func matches(_ entry: String, _ address: String) -> Bool {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        guard let network = bytes(String(parts[0])), let value = bytes(address), network.count == value.count else { return false }
        guard parts.count == 2 else { return parts.count == 1 && network == value }
        guard let bits = Int(parts[1]), (0...network.count * 8).contains(bits) else { return false }
        for index in 0..<network.count {
            let keep = max(0, min(8, bits - index * 8))
            let mask: UInt8 = keep == 0 ? 0 : ~UInt8(0) << (8 - keep)
            if network[index] & mask != value[index] & mask { return false }
        }
        return true
    }
}
