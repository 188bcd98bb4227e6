/// RFC 4648 base32 (the `A–Z2–7` alphabet), as authenticator apps use for TOTP secrets.
///
/// Encoding writes upper case without padding (what `otpauth://` URIs carry). Decoding accepts either
/// case, optional `=` padding, and spaces or hyphens between groups (people type secrets by hand); any
/// other character, an impossible length, or non-zero trailing bits are refused.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int(buffer >> UInt32(bits) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var symbols: [UInt8] = []
        var padding = 0
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "-"):
                guard padding == 0 else { return nil }
            case UInt8(ascii: "="):
                padding += 1
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                guard padding == 0 else { return nil }
                symbols.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                guard padding == 0 else { return nil }
                symbols.append(c - UInt8(ascii: "a"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"):
                guard padding == 0 else { return nil }
                symbols.append(c - UInt8(ascii: "2") + 26)
            default:
                return nil
            }
        }
        // Lengths modulo 8 that whole bytes can produce: 0, 2, 4, 5, 7.
        guard [0, 2, 4, 5, 7].contains(symbols.count % 8) else { return nil }
        if padding > 0 { guard (symbols.count + padding) % 8 == 0 else { return nil } }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            buffer = buffer << 5 | UInt32(symbol)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero: one text, one value.
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
