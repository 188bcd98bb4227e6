/// One CBOR data item (RFC 8949), as WebAuthn uses them: attestation objects, COSE keys and extension
/// outputs.
///
/// Maps keep their entries in the order they were read, so a value can be compared and printed exactly as
/// it arrived. Floats of every width are widened to `Double`.
public indirect enum CBORValue: Sendable, Hashable {
    /// Major type 0.
    case unsigned(UInt64)
    /// Major type 1: the value is `-1 - n`.
    case negative(UInt64)
    /// Major type 2.
    case bytes([UInt8])
    /// Major type 3, valid UTF-8.
    case text(String)
    /// Major type 4.
    case array([CBORValue])
    /// Major type 5, entries in input order, keys unique.
    case map([CBORMapEntry])
    /// Simple values 20 and 21.
    case bool(Bool)
    /// Simple value 22.
    case null
    /// Simple value 23.
    case undefined
    /// Half, single or double precision float.
    case float(Double)
    /// Major type 6: a tag and the item it applies to.
    case tagged(UInt64, CBORValue)
}

/// One key–value entry of a CBOR map.
public struct CBORMapEntry: Sendable, Hashable {
    public let key: CBORValue
    public let value: CBORValue

    public init(key: CBORValue, value: CBORValue) {
        self.key = key
        self.value = value
    }
}

extension CBORValue {
    /// The value under `key` when this is a map.
    public subscript(key: CBORValue) -> CBORValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The value under the text key `key` when this is a map.
    public subscript(text key: String) -> CBORValue? { self[.text(key)] }

    /// The value under the integer key `key` when this is a map (COSE labels).
    public subscript(int key: Int64) -> CBORValue? { self[CBORValue(key)] }

    /// The integer `value` as a CBOR unsigned or negative integer.
    public init(_ value: Int64) {
        self = value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }

    /// This integer, when it fits an `Int64`.
    public var int64: Int64? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: nil
        }
    }

    /// The bytes of a byte string.
    public var byteString: [UInt8]? {
        if case .bytes(let bytes) = self { bytes } else { nil }
    }

    /// The string of a text string.
    public var textString: String? {
        if case .text(let text) = self { text } else { nil }
    }

    /// The entries of a map.
    public var mapEntries: [CBORMapEntry]? {
        if case .map(let entries) = self { entries } else { nil }
    }
}

/// A strict, bounded CBOR decoder.
///
/// Accepts definite lengths only and refuses: indefinite lengths and the break code, reserved additional
/// information (28–30), simple values other than `false`, `true`, `null` and `undefined`, text that is not
/// valid UTF-8, duplicate map keys, nesting deeper than `maxDepth`, lengths or counts over `maxLength`, input
/// over `maxInput`, and truncated items. Non-minimal integer and length encodings are accepted (browsers
/// send canonical CBOR; being lenient there costs nothing).
///
/// - Important: lengths arrive as 64-bit integers from untrusted input. Every length is compared with
///   the limits and with the bytes that remain before it is converted or used, so no input can make the
///   decoder trap, over-allocate or read out of bounds.
public struct CBORDecoder: Sendable {
    /// Bounds on what one decode may accept.
    public struct Limits: Sendable {
        /// Containers (arrays, maps, tags) nested deeper than this are refused.
        public var maxDepth: Int
        /// Longest byte or text string, and largest array or map count.
        public var maxLength: Int
        /// Largest whole input.
        public var maxInput: Int

        public init(maxDepth: Int = 16, maxLength: Int = 65_536, maxInput: Int = 65_536) {
            self.maxDepth = maxDepth
            self.maxLength = maxLength
            self.maxInput = maxInput
        }
    }

    private let bytes: ArraySlice<UInt8>
    private let limits: Limits
    private var index: Int

    private init(_ bytes: ArraySlice<UInt8>, limits: Limits) {
        self.bytes = bytes
        self.limits = limits
        self.index = bytes.startIndex
    }

    /// Decodes exactly one data item that fills `bytes`.
    ///
    /// - Throws: `WebAuthnError` `.malformed` for invalid or trailing bytes, `.tooLarge` past the limits.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(WebAuthnError) -> CBORValue {
        let (value, consumed) = try decodePrefix(bytes[...], limits: limits)
        guard consumed == bytes.count else { throw .malformed("trailing bytes after the CBOR item") }
        return value
    }

    /// Decodes the data item at the start of `bytes` and says how many bytes it took; what follows is the
    /// caller's (authenticator data puts extensions after the credential key).
    ///
    /// - Throws: `WebAuthnError` `.malformed` for invalid or truncated bytes, `.tooLarge` past the limits.
    public static func decodePrefix(_ bytes: ArraySlice<UInt8>, limits: Limits = Limits()) throws(WebAuthnError) -> (CBORValue, consumed: Int) {
        guard bytes.count <= limits.maxInput else { throw .tooLarge("the CBOR input is too large") }
        var decoder = CBORDecoder(bytes, limits: limits)
        let value = try decoder.value(depth: 0)
        return (value, decoder.index - bytes.startIndex)
    }

    private var remaining: Int { bytes.endIndex - index }

    private mutating func byte() throws(WebAuthnError) -> UInt8 {
        guard index < bytes.endIndex else { throw .malformed("truncated CBOR") }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func bigEndian(_ count: Int) throws(WebAuthnError) -> UInt64 {
        guard remaining >= count else { throw .malformed("truncated CBOR") }
        var value: UInt64 = 0
        for _ in 0..<count {
            value = value << 8 | UInt64(bytes[index])
            index += 1
        }
        return value
    }

    /// The argument of an item head: the value in the low five bits or the 1, 2, 4 or 8 bytes that follow.
    private mutating func argument(_ info: UInt8) throws(WebAuthnError) -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return try bigEndian(1)
        case 25: return try bigEndian(2)
        case 26: return try bigEndian(4)
        case 27: return try bigEndian(8)
        case 31: throw .malformed("indefinite-length CBOR is not accepted")
        default: throw .malformed("reserved CBOR additional information")
        }
    }

    /// A length or count checked against the limits and the bytes that remain (each element takes at
    /// least `minimumSize` bytes), converted to `Int` only once it is known to be small.
    private func checkedLength(_ length: UInt64, minimumSize: Int) throws(WebAuthnError) -> Int {
        guard length <= UInt64(limits.maxLength) else { throw .tooLarge("a CBOR length exceeds the limit") }
        let count = Int(length)
        guard count <= remaining / minimumSize else { throw .malformed("truncated CBOR") }
        return count
    }

    private mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    private mutating func value(depth: Int) throws(WebAuthnError) -> CBORValue {
        let head = try byte()
        let major = head >> 5
        let info = head & 0x1F
        if major == 7 { return try simple(info) }
        let argument = try argument(info)
        switch major {
        case 0:
            return .unsigned(argument)
        case 1:
            return .negative(argument)
        case 2:
            return .bytes(Array(take(try checkedLength(argument, minimumSize: 1))))
        case 3:
            let utf8 = take(try checkedLength(argument, minimumSize: 1))
            guard let text = String(validating: utf8, as: UTF8.self) else { throw .malformed("CBOR text is not valid UTF-8") }
            return .text(text)
        case 4:
            guard depth < limits.maxDepth else { throw .tooLarge("CBOR nesting is too deep") }
            let count = try checkedLength(argument, minimumSize: 1)
            var items: [CBORValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(depth: depth + 1)) }
            return .array(items)
        case 5:
            guard depth < limits.maxDepth else { throw .tooLarge("CBOR nesting is too deep") }
            let count = try checkedLength(argument, minimumSize: 2)
            var entries: [CBORMapEntry] = []
            entries.reserveCapacity(count)
            var keys = Set<CBORValue>(minimumCapacity: count)
            for _ in 0..<count {
                let key = try value(depth: depth + 1)
                guard keys.insert(key).inserted else { throw .malformed("duplicate CBOR map key") }
                entries.append(CBORMapEntry(key: key, value: try value(depth: depth + 1)))
            }
            return .map(entries)
        default:  // 6
            guard depth < limits.maxDepth else { throw .tooLarge("CBOR nesting is too deep") }
            return .tagged(argument, try value(depth: depth + 1))
        }
    }

    /// Major type 7: the four simple values WebAuthn can carry, and floats.
    private mutating func simple(_ info: UInt8) throws(WebAuthnError) -> CBORValue {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 25: return .float(Self.half(UInt16(try bigEndian(2))))
        case 26: return .float(Double(Float(bitPattern: UInt32(try bigEndian(4)))))
        case 27: return .float(Double(bitPattern: try bigEndian(8)))
        case 31: throw .malformed("indefinite-length CBOR is not accepted")
        case 28...30: throw .malformed("reserved CBOR additional information")
        default: throw .malformed("unsupported CBOR simple value")
        }
    }

    /// An IEEE 754 half-precision float (RFC 8949 Appendix D), without relying on `Float16`.
    static func half(_ bits: UInt16) -> Double {
        let sign: FloatingPointSign = bits & 0x8000 == 0 ? .plus : .minus
        let exponent = Int(bits >> 10 & 0x1F)
        let mantissa = Double(bits & 0x3FF)
        let magnitude: Double
        switch exponent {
        case 0: magnitude = Double(sign: .plus, exponent: -24, significand: mantissa)
        case 31: magnitude = mantissa == 0 ? .infinity : .nan
        default: magnitude = Double(sign: .plus, exponent: exponent - 25, significand: mantissa + 1024)
        }
        return sign == .minus ? -magnitude : magnitude
    }
}
