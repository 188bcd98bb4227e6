/// Strict base64 in both RFC 4648 alphabets.
///
/// Foundation's decoder does not accept the URL-safe alphabet (`-`, `_`) that Fernet tokens and Warden's
/// text envelopes use, and it tolerates some non-canonical inputs. This codec accepts exactly one
/// encoding of any byte string: the alphabet given, padding as requested, and zero bits in the unused
/// low bits of the last character. Anything else decodes to `nil`.
public enum Base64 {
    /// The 64-character alphabet (RFC 4648 §4 or §5).
    public enum Alphabet: Sendable {
        /// `A–Z a–z 0–9 + /`
        case standard
        /// `A–Z a–z 0–9 - _`
        case url
    }

    /// Whether `=` padding is written and expected.
    public enum Padding: Sendable {
        /// Padding to a multiple of four characters is required.
        case required
        /// No padding may appear.
        case forbidden
        /// Either fully padded or not padded at all.
        case optional
    }

    private static let standardTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let invalid: UInt8 = 0xFF

    private static func decodeTable(_ alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }

    private static let standardDecode = decodeTable(standardTable)
    private static let urlDecode = decodeTable(urlTable)

    /// Encodes `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard, padded: Bool = true) -> String {
        if let result = bytes.withContiguousStorageIfAvailable({ encode(UnsafeRawBufferPointer($0), alphabet: alphabet, padded: padded) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { encode($0, alphabet: alphabet, padded: padded) }
    }

    /// Encodes the bytes in `bytes`, after `prefix` (the two in one string, made in one allocation).
    public static func encode(_ bytes: UnsafeRawBufferPointer, alphabet: Alphabet = .standard, padded: Bool = true, after prefix: String = "") -> String {
        let table = alphabet == .standard ? standardTable : urlTable
        let fullGroups = bytes.count / 3
        let tail = bytes.count % 3
        let start = prefix.utf8.count
        let length = start + fullGroups * 4 + (tail == 0 ? 0 : (padded ? 4 : tail + 1))
        return table.withUnsafeBufferPointer { table in
            String(unsafeUninitializedCapacity: length) { output in
                var out = 0
                for byte in prefix.utf8 {
                    output[out] = byte
                    out += 1
                }
                var index = 0
                for _ in 0..<fullGroups {
                    let b0 = bytes[index]
                    let b1 = bytes[index + 1]
                    let b2 = bytes[index + 2]
                    output[out] = table[Int(b0 >> 2)]
                    output[out + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    output[out + 2] = table[Int((b1 & 0x0F) << 2 | b2 >> 6)]
                    output[out + 3] = table[Int(b2 & 0x3F)]
                    index += 3
                    out += 4
                }
                if tail > 0 {
                    let b0 = bytes[index]
                    let b1: UInt8 = tail == 2 ? bytes[index + 1] : 0
                    output[out] = table[Int(b0 >> 2)]
                    output[out + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    out += 2
                    if tail == 2 {
                        output[out] = table[Int((b1 & 0x0F) << 2)]
                        out += 1
                    }
                    if padded {
                        while (out - start) % 4 != 0 {
                            output[out] = UInt8(ascii: "=")
                            out += 1
                        }
                    }
                }
                return out
            }
        }
    }

    /// Decodes `text`, or returns `nil` unless it is the canonical encoding of some byte string.
    public static func decode(_ text: some StringProtocol, alphabet: Alphabet = .standard, padding: Padding = .required) -> [UInt8]? {
        var text = String(text)
        return text.withUTF8 { decode(utf8: $0, alphabet: alphabet, padding: padding) }
    }

    /// Decodes the UTF-8 bytes of a base64 text, or returns `nil` unless they are canonical.
    public static func decode(utf8 input: some Collection<UInt8>, alphabet: Alphabet = .standard, padding: Padding = .required) -> [UInt8]? {
        if let result = input.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0), alphabet: alphabet, padding: padding) }) {
            return result
        }
        return Array(input).withUnsafeBytes { decode($0, alphabet: alphabet, padding: padding) }
    }

    /// Decodes the UTF-8 bytes of a base64 text, or returns `nil` unless they are canonical.
    public static func decode(_ input: UnsafeRawBufferPointer, alphabet: Alphabet = .standard, padding: Padding = .required) -> [UInt8]? {
        let table = alphabet == .standard ? standardDecode : urlDecode
        var bodyCount = input.count
        while bodyCount > 0, input[bodyCount - 1] == UInt8(ascii: "=") { bodyCount -= 1 }
        let padCount = input.count - bodyCount
        let body = UnsafeRawBufferPointer(rebasing: input[0..<bodyCount])
        switch padding {
        case .forbidden:
            guard padCount == 0 else { return nil }
        case .required:
            guard input.count % 4 == 0 else { return nil }
        case .optional:
            guard padCount == 0 || input.count % 4 == 0 else { return nil }
        }
        let remainder = body.count % 4
        guard remainder != 1 else { return nil }
        if padCount > 0 { guard padCount == (4 - remainder) % 4 else { return nil } }

        let outputCount = body.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        let output = table.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outputCount) { output, initialized in
                var index = 0
                var out = 0
                var bad: UInt8 = 0
                while index + 4 <= body.count {
                    let a = table[Int(body[index])]
                    let b = table[Int(body[index + 1])]
                    let c = table[Int(body[index + 2])]
                    let d = table[Int(body[index + 3])]
                    bad |= a | b | c | d
                    output[out] = a << 2 | b >> 4
                    output[out + 1] = (b & 0x0F) << 4 | c >> 2
                    output[out + 2] = (c & 0x03) << 6 | d
                    index += 4
                    out += 3
                }
                switch remainder {
                case 2:
                    let a = table[Int(body[index])]
                    let b = table[Int(body[index + 1])]
                    bad |= a | b
                    // The unused low bits of the last character must be zero (canonical form).
                    if b & 0x0F != 0 { bad |= 0xC0 }
                    output[out] = a << 2 | b >> 4
                    out += 1
                case 3:
                    let a = table[Int(body[index])]
                    let b = table[Int(body[index + 1])]
                    let c = table[Int(body[index + 2])]
                    bad |= a | b | c
                    if c & 0x03 != 0 { bad |= 0xC0 }
                    output[out] = a << 2 | b >> 4
                    output[out + 1] = (b & 0x0F) << 4 | c >> 2
                    out += 2
                default:
                    break
                }
                valid = bad & 0xC0 == 0
                initialized = out
            }
        }
        return valid ? output : nil
    }
}
