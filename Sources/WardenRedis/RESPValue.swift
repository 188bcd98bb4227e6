public import NIOCore

/// A value in the Redis serialisation protocol, RESP2 or RESP3.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; `nil` is RESP2's null bulk string.
    case bulkString(ByteBuffer?)
    /// An array; `nil` is RESP2's null array.
    case array([RESPValue]?)
    /// RESP3 `_`.
    case null
    case double(Double)
    case boolean(Bool)
    /// RESP3 `(`, kept as its decimal text.
    case bigNumber(String)
    /// RESP3 `=`: format (3 characters) and text.
    case verbatim(format: String, text: String)
    /// RESP3 `%`, as ordered pairs.
    case map([Pair])
    /// RESP3 `~`.
    case set([RESPValue])
    /// RESP3 `>`: out-of-band data (pub/sub messages).
    case push([RESPValue])
    /// A whole reply (an array), unparsed: its bytes as they arrived, already checked by ``RESPParser``.
    /// Only a caller that asked for it gets one (``RESPParser/parse(_:unparsedArrays:)``,
    /// `RedisClient.run(_:keys:arguments:admitting:unparsed:)`).
    case frame(ByteBuffer)

    public struct Pair: Sendable, Hashable {
        public let key: RESPValue
        public let value: RESPValue

        public init(key: RESPValue, value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// Whether the value is a null of either protocol version.
    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): true
        default: false
        }
    }

    /// The value as text (simple, bulk and verbatim strings), if it is one.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer?): String(buffer: buffer)
        case .verbatim(_, let text): text
        default: nil
        }
    }

    /// The value as an integer (integers, and strings holding one), if it is one.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        // The digits as Warden writes them are read in place; any other spelling Swift reads goes through text.
        case .bulkString(let buffer?): buffer.withUnsafeReadableBytes { Self.canonicalInteger($0) } ?? Int64(String(buffer: buffer))
        default: string.flatMap { Int64($0) }
        }
    }

    /// The integer `digits` spell in their one canonical form (an optional "-", no leading zero, no "-0",
    /// within `Int64`), or `nil`.
    static func canonicalInteger(_ digits: UnsafeRawBufferPointer) -> Int64? {
        // Up to 18 digits without a sign (every length and count Redis sends, every millisecond time)
        // cannot overflow: summed directly.
        if digits.count <= 18, let first = digits.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") {
            var value: Int64 = 0
            for byte in digits {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value &* 10 &+ Int64(digit)
            }
            return value
        }
        var iterator = digits.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        if byte == UInt8(ascii: "0") { return !negative && iterator.next() == nil ? 0 : nil }
        // Counted below zero, so that Int64.min fits.
        var value = -Int64(byte - UInt8(ascii: "0"))
        while let next = iterator.next() {
            guard next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, underflowed) = shifted.subtractingReportingOverflow(Int64(next - UInt8(ascii: "0")))
            guard !overflowed, !underflowed else { return nil }
            value = sum
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// The value with storage of its own for every bulk string (the parser's are slices of the stream's buffer).
    func detached() -> RESPValue {
        switch self {
        case .bulkString(let buffer?): .bulkString(ByteBuffer(bytes: buffer.readableBytesView))
        case .frame(let buffer): .frame(ByteBuffer(bytes: buffer.readableBytesView))
        case .array(let values?): .array(values.map { $0.detached() })
        case .set(let values): .set(values.map { $0.detached() })
        case .push(let values): .push(values.map { $0.detached() })
        case .map(let pairs): .map(pairs.map { Pair(key: $0.key.detached(), value: $0.value.detached()) })
        default: self
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values?), .set(let values), .push(let values): values
        default: nil
        }
    }
}
