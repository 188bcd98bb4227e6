public import NIOCore

/// Parses RESP2 and RESP3 values from a buffer, strictly and within limits.
///
/// `parse` either consumes exactly one complete value or consumes nothing (returning `nil`) when the
/// buffer does not yet hold a whole value, so bytes may arrive in any chunks. Malformed input — a bad
/// type byte, a missing CRLF, a malformed length, too deep nesting, an oversized aggregate — is an
/// error, after which the connection must be closed.
public struct RESPParser: Sendable {
    /// Limits that bound memory and recursion whatever a server (or an attacker in the middle) sends.
    public struct Limits: Sendable {
        public var maxBulkLength = 64 << 20
        public var maxAggregateLength = 1 << 20
        public var maxDepth = 32
        public var maxLineLength = 64 << 10
        public init() {}
    }

    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "malformed RESP: \(reason)" }
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses one value from the front of `buffer`, or returns `nil` (consuming nothing) if it is incomplete.
    public func parse(_ buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        var cursor = buffer.readerIndex
        guard let value = try parseValue(buffer, &cursor, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: cursor)
        return value
    }

    private func parseValue(_ buffer: ByteBuffer, _ cursor: inout Int, depth: Int) throws(Error) -> RESPValue? {
        guard depth <= limits.maxDepth else { throw Error(reason: "nested deeper than \(limits.maxDepth)") }
        guard let type: UInt8 = buffer.getInteger(at: cursor) else { return nil }
        var position = cursor + 1
        guard let line = try readLine(buffer, &position) else { return nil }
        let value: RESPValue
        switch type {
        case UInt8(ascii: "+"):
            value = .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            value = .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            value = .integer(try integer(line))
        case UInt8(ascii: "$"):
            let length = try integer(line)
            if length == -1 {
                value = .bulkString(nil)
            } else {
                guard let bytes = try readBlob(buffer, &position, length: length) else { return nil }
                value = .bulkString(bytes)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            let count = try integer(line)
            if count == -1, type == UInt8(ascii: "*") {
                value = .array(nil)
            } else {
                guard count >= 0, count <= limits.maxAggregateLength else { throw Error(reason: "aggregate length \(count)") }
                var elements: [RESPValue] = []
                elements.reserveCapacity(Int(min(count, 1024)))
                for _ in 0..<count {
                    guard let element = try parseValue(buffer, &position, depth: depth + 1) else { return nil }
                    elements.append(element)
                }
                value = type == UInt8(ascii: "*") ? .array(elements) : type == UInt8(ascii: "~") ? .set(elements) : .push(elements)
            }
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(line)
            guard count >= 0, count <= limits.maxAggregateLength / 2 else { throw Error(reason: "map length \(count)") }
            var pairs: [RESPValue.Pair] = []
            for _ in 0..<count {
                guard let key = try parseValue(buffer, &position, depth: depth + 1),
                      let element = try parseValue(buffer, &position, depth: depth + 1)
                else { return nil }
                pairs.append(RESPValue.Pair(key: key, value: element))
            }
            if type == UInt8(ascii: "|") {
                // An attribute: metadata about the value that follows, which is what the caller gets.
                guard let attributed = try parseValue(buffer, &position, depth: depth + 1) else { return nil }
                value = attributed
            } else {
                value = .map(pairs)
            }
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw Error(reason: "null with content") }
            value = .null
        case UInt8(ascii: "#"):
            guard line.count == 1, line.first == UInt8(ascii: "t") || line.first == UInt8(ascii: "f") else { throw Error(reason: "boolean") }
            value = .boolean(line.first == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let text = String(decoding: line, as: UTF8.self)
            switch text {
            case "inf": value = .double(.infinity)
            case "-inf": value = .double(-.infinity)
            case "nan": value = .double(.nan)
            default:
                guard let double = Double(text), !text.isEmpty else { throw Error(reason: "double") }
                value = .double(double)
            }
        case UInt8(ascii: "("):
            let text = String(decoding: line, as: UTF8.self)
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { throw Error(reason: "big number") }
            value = .bigNumber(text)
        case UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try integer(line)
            guard let bytes = try readBlob(buffer, &position, length: length) else { return nil }
            if type == UInt8(ascii: "!") {
                value = .error(String(buffer: bytes))
            } else {
                let text = String(buffer: bytes)
                guard text.utf8.count >= 4, Array(text.utf8)[3] == UInt8(ascii: ":") else { throw Error(reason: "verbatim string") }
                value = .verbatim(format: String(text.prefix(3)), text: String(text.dropFirst(4)))
            }
        default:
            throw Error(reason: "unknown type byte \(type)")
        }
        cursor = position
        return value
    }

    /// The bytes up to the next CRLF (which is consumed), or `nil` if no CRLF has arrived yet.
    private func readLine(_ buffer: ByteBuffer, _ position: inout Int) throws(Error) -> [UInt8]? {
        let end = buffer.writerIndex
        var index = position
        while index < end {
            let byte: UInt8 = buffer.getInteger(at: index)!
            if byte == UInt8(ascii: "\r") {
                guard index + 1 < end else { return nil }
                guard buffer.getInteger(at: index + 1) == UInt8(ascii: "\n") else { throw Error(reason: "CR without LF") }
                let line = buffer.getBytes(at: position, length: index - position)!
                position = index + 2
                return line
            }
            if byte == UInt8(ascii: "\n") { throw Error(reason: "LF without CR") }
            index += 1
            guard index - position <= limits.maxLineLength else { throw Error(reason: "line longer than \(limits.maxLineLength)") }
        }
        return nil
    }

    /// `length` bytes then CRLF, or `nil` if they have not all arrived.
    private func readBlob(_ buffer: ByteBuffer, _ position: inout Int, length: Int64) throws(Error) -> ByteBuffer? {
        guard length >= 0, length <= limits.maxBulkLength else { throw Error(reason: "bulk length \(length)") }
        let count = Int(length)
        guard buffer.writerIndex - position >= count + 2 else { return nil }
        guard buffer.getInteger(at: position + count) == UInt8(ascii: "\r"), buffer.getInteger(at: position + count + 1) == UInt8(ascii: "\n") else {
            throw Error(reason: "bulk string not terminated by CRLF")
        }
        let bytes = buffer.getSlice(at: position, length: count)!
        position += count + 2
        return bytes
    }

    private func integer(_ line: [UInt8]) throws(Error) -> Int64 {
        guard !line.isEmpty, line.count <= 20, let value = Int64(String(decoding: line, as: UTF8.self)) else {
            throw Error(reason: "integer")
        }
        // Exactly one spelling: no "+", no leading zeros, no "-0".
        guard String(value) == String(decoding: line, as: UTF8.self) else { throw Error(reason: "integer not canonical") }
        return value
    }
}
