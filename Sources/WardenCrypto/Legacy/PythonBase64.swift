/// Python's lenient base64 decoders, reproduced exactly, for reading the original system's keys.
///
/// The original decoded `DIGITAL_TWIN_ENCRYPTION_KEY` with `base64.urlsafe_b64decode` (inside
/// `Fernet(key)`) and with `base64.b64decode` (the digital-twin database). Both end in CPython's
/// `binascii.a2b_base64` in its non-strict mode, which is far more forgiving than ``Base64``: it drops
/// every character outside the alphabet, stops at the first complete padding, and ignores the unused low
/// bits of the last character. `urlsafe_b64decode` first maps `-` to `+` and `_` to `/`, so it accepts
/// both alphabets, even mixed. A key the original accepted must open its data here, so these decoders
/// follow CPython's non-strict `a2b_base64` step by step; the interop tests compare them with Python on
/// many inputs.
///
/// Use them only for the original's keys: Warden's own formats are decoded strictly.
enum PythonBase64 {
    /// `base64.urlsafe_b64decode(text)`, or `nil` where Python raises.
    static func urlsafeDecode(_ text: String) -> [UInt8]? {
        decode(text) { byte in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
    }

    /// `base64.b64decode(text)` (`validate=False`), or `nil` where Python raises.
    static func standardDecode(_ text: String) -> [UInt8]? {
        decode(text) { $0 }
    }

    private static func decode(_ text: String, translate: (UInt8) -> UInt8) -> [UInt8]? {
        // `_bytes_from_decode_data`: a `str` must be ASCII.
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        // `binascii.a2b_base64(s, strict_mode=False)`.
        var quadPosition = 0
        var leftover: UInt8 = 0
        var pads = 0
        for character in text.utf8 {
            let byte = translate(character)
            if byte == UInt8(ascii: "=") {
                // Padding ends the input once it completes a quantum; a stray `=` is skipped.
                if quadPosition >= 2 {
                    pads += 1
                    if quadPosition + pads >= 4 { return output }
                }
                continue
            }
            guard let value = sextet(byte) else { continue }
            pads = 0
            switch quadPosition {
            case 0:
                leftover = value
                quadPosition = 1
            case 1:
                output.append(leftover << 2 | value >> 4)
                leftover = value & 0x0F
                quadPosition = 2
            case 2:
                output.append(leftover << 4 | value >> 2)
                leftover = value & 0x03
                quadPosition = 3
            default:
                output.append(leftover << 6 | value)
                leftover = 0
                quadPosition = 0
            }
        }
        // A quantum left open is "Incorrect padding" (or an impossible length) in Python.
        return quadPosition == 0 ? output : nil
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
