public import NIOCore

/// A value in the Redis serialisation protocol, RESP2 or RESP3.
public indirect enum RESPValue: Sendable, Hashable {
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
        default: string.flatMap { Int64($0) }
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
