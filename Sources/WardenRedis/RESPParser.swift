public import NIOCore
public import WardenCore

/// Parses RESP2 and RESP3 values from a byte stream, incrementally, strictly and within limits.
///
/// `parse` either consumes exactly one complete value or consumes nothing (returning `nil`) when the
/// buffer does not yet hold a whole value, so bytes may arrive in any chunks. Malformed input — a bad
/// type byte, a missing CRLF, a malformed length, too deep nesting, an oversized aggregate — is an
/// error, after which the connection must be closed.
///
/// A parser belongs to one byte stream. While the value at the front of the buffer is incomplete, the
/// parser remembers how far it got — the finished elements of the aggregates still open, how much of
/// the current line it has scanned, a bulk string's header — so every byte is examined once, however
/// the bytes are split (a reply arriving in many small reads costs linear, not quadratic, work). Call it
/// again with the same buffer after appending to it, and do not move the buffer's reader index in
/// between. After an error the parser starts afresh.
///
/// - Important: A value is refused as soon as it is known to exceed ``Limits``: a declared bulk or
///   aggregate length that cannot fit is refused at its header, before its bytes arrive, and an
///   incomplete value is refused once the bytes buffered for it pass ``Limits/maxValueBytes``. Memory
///   therefore stays bounded whatever a server, or an attacker in the path, sends.
public struct RESPParser: Sendable {
    /// Limits that bound memory and recursion whatever a server (or an attacker in the middle) sends.
    public struct Limits: Sendable {
        /// The longest bulk string, blob error or verbatim string (default 64 MiB).
        public var maxBulkLength = 64 << 20
        /// The most elements in one aggregate (a map's pairs count twice).
        public var maxAggregateLength = 1 << 20
        public var maxDepth = 32
        public var maxLineLength = 64 << 10
        /// The most bytes one reply may take on the wire, framing included, and so the most bytes buffered
        /// for an incomplete reply (default 64 MiB + 64 KiB: one maximal bulk string and its framing).
        public var maxValueBytes = (64 << 20) + (64 << 10)
        /// The most values in one reply, at every depth and the reply itself included (default 2^20).
        /// Decoded values take more memory than their wire bytes, so this bounds memory separately.
        public var maxValueCount = 1 << 20
        public init() {}
    }

    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public typealias Code = ErrorCode<RESPParser.Error>

        public let code: Code
        public let reason: String

        public init(_ code: Code = .malformed, reason: String) {
            self.code = code
            self.reason = reason
        }

        public var description: String {
            code == .limitExceeded ? "RESP reply over a limit: \(reason)" : "malformed RESP: \(reason)"
        }

        static func limit(_ reason: String) -> Error { Error(.limitExceeded, reason: reason) }
    }

    /// An aggregate whose elements are still arriving.
    private struct Frame: Sendable {
        enum Kind: Sendable { case array, set, push, map, attribute }
        let kind: Kind
        var remaining: Int
        var elements: [RESPValue]
        /// How many of `elements` hold storage of their own rather than a slice of the stream's buffer.
        var detached = 0

        /// The finished aggregate; for an attribute, the value it describes (what the caller gets).
        func value() -> RESPValue {
            switch kind {
            case .array: .array(elements)
            case .set: .set(elements)
            case .push: .push(elements)
            case .map: .map(stride(from: 0, to: elements.count, by: 2).map { RESPValue.Pair(key: elements[$0], value: elements[$0 + 1]) })
            case .attribute: elements.last!
            }
        }

        /// Gives every element its own storage (see ``RESPParser/detachFrames()``); elements before
        /// `detached` already have it.
        mutating func detach() {
            for index in detached..<elements.count { elements[index] = elements[index].detached() }
            detached = elements.count
        }
    }

    public let limits: Limits

    // The state of the incomplete value at the front of the buffer; offsets count from the reader index.
    private var frames: [Frame] = []
    /// Bytes of the value already parsed.
    private var parsed = 0
    /// Where scanning for the end of the current line resumes (0: from the line's start).
    private var scanned = 0
    /// A bulk-type header already read whose payload (starting at `parsed`) has not all arrived.
    private var pendingBlob: (type: UInt8, length: Int)?
    /// Values counted so far in the current reply.
    private var valueCount = 0
    /// Whether the value in progress is an array its caller wants unparsed (``parse(_:unparsedArrays:)``):
    /// checked as strictly, but nothing of it is built.
    private var skimming = false
    /// Bytes looked at since the parser was made (type bytes, lines, terminators; not bulk payloads,
    /// which are sliced, not scanned). Tests use it to prove that nothing is parsed twice.
    private(set) var bytesExamined = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Parses one value from the front of `buffer`, or returns `nil` (consuming nothing) if it is incomplete.
    ///
    /// - Throws: ``Error`` with ``Error/Code/malformed`` or ``Error/Code/limitExceeded``; the parser is
    ///   then reset, and the stream should be abandoned.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(Error) -> RESPValue? {
        try parse(&buffer, unparsedArrays: false)
    }

    /// ``parse(_:)``, except that with `unparsedArrays` a reply that is an array comes back as
    /// ``RESPValue/frame(_:)``: its bytes, checked as strictly and within the same limits as a parsed
    /// value, but with nothing of it built (no value per element, no slice per bulk string), for a caller
    /// that reads the shape it expects straight from them. Any other reply (an error, a null, a push) comes
    /// back parsed. The choice is made at the reply's first byte and kept until it is complete.
    public mutating func parse(_ buffer: inout ByteBuffer, unparsedArrays: Bool) throws(Error) -> RESPValue? {
        if unparsedArrays, frames.isEmpty, pendingBlob == nil, parsed == 0, buffer.readableBytes > 0 {
            skimming = buffer.readableBytesView.first == UInt8(ascii: "*")
        }
        if skimming, parsed == 0, frames.isEmpty, pendingBlob == nil, let length = buffer.withUnsafeReadableBytes({ skimWhole($0) }) {
            let frame = buffer.readSlice(length: length)!
            reset()
            return .frame(frame)
        }
        do throws(Error) {
            guard var value = try resume(buffer) else {
                // Every readable byte belongs to the incomplete value.
                guard buffer.readableBytes <= limits.maxValueBytes else {
                    throw Error.limit("more than \(limits.maxValueBytes) bytes buffered for one reply")
                }
                detachFrames()
                return nil
            }
            if skimming { value = .frame(buffer.getSlice(at: buffer.readerIndex, length: parsed)!) }
            buffer.moveReaderIndex(forwardBy: parsed)
            reset()
            return value
        } catch {
            reset()
            throw error
        }
    }

    /// Bulk strings are slices of the stream's buffer, which costs nothing while the value completes
    /// within the bytes at hand (the usual case: a reply arrives in one read, and the stream's buffer is
    /// let go once it is consumed). A slice still held while more bytes arrive would make each append to
    /// that buffer copy it, so the elements of the aggregates still open get storage of their own before
    /// the parser waits: each element is copied at most once.
    private mutating func detachFrames() {
        for index in frames.indices { frames[index].detach() }
    }

    private mutating func reset() {
        frames = []
        parsed = 0
        scanned = 0
        pendingBlob = nil
        valueCount = 0
        skimming = false
    }

    /// Continues the value at the front of `buffer` from where the last call stopped.
    private mutating func resume(_ buffer: ByteBuffer) throws(Error) -> RESPValue? {
        // The bytes are read through one pointer for the whole call (a ByteBuffer read per byte would
        // each look the storage up again).
        let result = buffer.withUnsafeReadableBytes { bytes in
            do throws(Error) {
                return Result<RESPValue?, Error>.success(try resume(bytes, in: buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// `resume`, over `bytes`: the readable bytes of `buffer`.
    private mutating func resume(_ bytes: UnsafeRawBufferPointer, in buffer: ByteBuffer) throws(Error) -> RESPValue? {
        while true {
            var value: RESPValue
            if let blob = pendingBlob {
                guard bytes.count - parsed >= blob.length + 2 else { return nil }
                value = try finishBlob(bytes, in: buffer, type: blob.type, length: blob.length)
                pendingBlob = nil
            } else {
                guard frames.count <= limits.maxDepth else { throw Error(reason: "nested deeper than \(limits.maxDepth)") }
                guard parsed < bytes.count else { return nil }
                let type = bytes[parsed]
                bytesExamined += 1
                guard let lineEnd = try lineEnd(bytes, type: type) else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: bytes[(parsed + 1)..<lineEnd])
                valueCount += 1
                guard valueCount <= limits.maxValueCount else { throw Error.limit("more than \(limits.maxValueCount) values in one reply") }
                parsed = lineEnd + 2
                guard let scalar = try header(type: type, line: line) else { continue }
                value = scalar
            }
            guard parsed <= limits.maxValueBytes else { throw Error.limit("reply longer than \(limits.maxValueBytes) bytes") }
            // Hand the finished value to the aggregate waiting for it, closing every aggregate it completes.
            while !frames.isEmpty {
                let top = frames.count - 1
                if !skimming { frames[top].elements.append(value) }
                frames[top].remaining -= 1
                guard frames[top].remaining == 0 else { break }
                let finished = frames.removeLast()
                // An unparsed array's aggregates keep no elements (an attribute would have no value to give).
                value = skimming ? .null : finished.value()
            }
            if frames.isEmpty { return value }
        }
    }

    /// The length of the array at the front of `bytes` when all of it has arrived and it holds only
    /// arrays, bulk strings, integers, simple strings and nulls, found in one tight pass; `nil` otherwise,
    /// and the incremental path (``resume(_:)``) reads it instead, keeping its place and naming what is
    /// wrong. Accepts nothing that path refuses: the same line, length, depth, count and size limits,
    /// canonical lengths, every line and payload ended by CRLF.
    private func skimWhole(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = min(bytes.count, limits.maxValueBytes)
        let depthLimit = min(limits.maxDepth, 64)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: depthLimit + 1) { open -> Int? in
            var depth = 0
            var values = 0
            var index = 0
            while true {
                guard index < count else { return nil }
                let type = bytes[index]
                var end = index + 1
                while end < count, bytes[end] != UInt8(ascii: "\r") {
                    guard bytes[end] != UInt8(ascii: "\n") else { return nil }
                    end += 1
                }
                guard end + 1 < count, bytes[end + 1] == UInt8(ascii: "\n"), end - index - 1 <= limits.maxLineLength else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end])
                index = end + 2
                values += 1
                guard values <= limits.maxValueCount else { return nil }
                switch type {
                case UInt8(ascii: "*"):
                    guard let elements = RESPValue.canonicalInteger(line), elements >= -1 else { return nil }
                    if elements > 0 {
                        guard elements <= limits.maxAggregateLength, values + Int(elements) <= limits.maxValueCount, depth < depthLimit else { return nil }
                        open[depth] = Int(elements)
                        depth += 1
                        continue
                    }
                case UInt8(ascii: "$"):
                    guard let length = RESPValue.canonicalInteger(line), length >= -1, length <= limits.maxBulkLength else { return nil }
                    if length >= 0 {
                        let payloadEnd = index + Int(length)
                        guard payloadEnd + 1 < count, bytes[payloadEnd] == UInt8(ascii: "\r"), bytes[payloadEnd + 1] == UInt8(ascii: "\n") else { return nil }
                        index = payloadEnd + 2
                    }
                case UInt8(ascii: ":"):
                    guard RESPValue.canonicalInteger(line) != nil else { return nil }
                case UInt8(ascii: "_"):
                    guard line.isEmpty else { return nil }
                case UInt8(ascii: "+"):
                    break
                default:
                    return nil
                }
                // A value is finished: count it against its aggregate, closing every aggregate it completes.
                while depth > 0 {
                    open[depth - 1] -= 1
                    guard open[depth - 1] == 0 else { break }
                    depth -= 1
                }
                if depth == 0 { return index }
            }
        }
    }

    /// Acts on a header line: returns a finished value, or `nil` after opening an aggregate or starting
    /// a bulk string (whose contents follow).
    private mutating func header(type: UInt8, line: UnsafeRawBufferPointer) throws(Error) -> RESPValue? {
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"):
            return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"):
            return .integer(try integer(line))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let length = try integer(line)
            if length == -1, type == UInt8(ascii: "$") { return .bulkString(nil) }
            guard length >= 0 else { throw Error(reason: "bulk length \(length)") }
            guard length <= limits.maxBulkLength else { throw Error.limit("bulk length \(length) over \(limits.maxBulkLength)") }
            // Refused before its bytes arrive when it cannot fit in the reply.
            guard parsed + Int(length) + 2 <= limits.maxValueBytes else {
                throw Error.limit("a bulk string of \(length) bytes would take the reply past \(limits.maxValueBytes) bytes")
            }
            pendingBlob = (type, Int(length))
            return nil
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            let count = try integer(line)
            if count == -1, type == UInt8(ascii: "*") { return .array(nil) }
            guard count >= 0 else { throw Error(reason: "aggregate length \(count)") }
            guard count <= limits.maxAggregateLength else { throw Error.limit("aggregate length \(count) over \(limits.maxAggregateLength)") }
            let kind: Frame.Kind = type == UInt8(ascii: "*") ? .array : type == UInt8(ascii: "~") ? .set : .push
            return try open(kind, elements: Int(count))
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(line)
            guard count >= 0 else { throw Error(reason: "map length \(count)") }
            guard count <= limits.maxAggregateLength / 2 else { throw Error.limit("map length \(count) over \(limits.maxAggregateLength / 2)") }
            // An attribute is metadata about the value that follows, which is what the caller gets.
            return try type == UInt8(ascii: "%") ? open(.map, elements: 2 * Int(count)) : open(.attribute, elements: 2 * Int(count) + 1)
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw Error(reason: "null with content") }
            return .null
        case UInt8(ascii: "#"):
            guard line.count == 1, let byte = line.first, byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f") else { throw Error(reason: "boolean") }
            return .boolean(byte == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let text = String(decoding: line, as: UTF8.self)
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let double = Double(text), !text.isEmpty else { throw Error(reason: "double") }
                return .double(double)
            }
        case UInt8(ascii: "("):
            let text = String(decoding: line, as: UTF8.self)
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { throw Error(reason: "big number") }
            return .bigNumber(text)
        default:
            throw Error(reason: "unknown type byte \(type)")
        }
    }

    /// Opens an aggregate of `elements` values, or returns the empty one at once.
    private mutating func open(_ kind: Frame.Kind, elements: Int) throws(Error) -> RESPValue? {
        // Refused before the elements arrive when they cannot fit in the reply.
        guard valueCount + elements <= limits.maxValueCount else {
            throw Error.limit("an aggregate of \(elements) values would take the reply past \(limits.maxValueCount) values")
        }
        let frame = Frame(kind: kind, remaining: elements, elements: [])
        guard elements > 0 else { return frame.value() }
        frames.append(frame)
        if !skimming { frames[frames.count - 1].elements.reserveCapacity(min(elements, 1024)) }
        return nil
    }

    /// The bulk string, blob error or verbatim string whose payload starts at `parsed` and has arrived.
    private mutating func finishBlob(_ bytes: UnsafeRawBufferPointer, in buffer: ByteBuffer, type: UInt8, length: Int) throws(Error) -> RESPValue {
        let start = parsed
        bytesExamined += 2
        guard bytes[start + length] == UInt8(ascii: "\r"), bytes[start + length + 1] == UInt8(ascii: "\n") else {
            throw Error(reason: "bulk string not terminated by CRLF")
        }
        parsed += length + 2
        // Inside an unparsed array only a bulk string's framing matters (the others are checked as usual).
        if skimming, type == UInt8(ascii: "$") { return .null }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
        switch type {
        case UInt8(ascii: "$"):
            // A slice of the stream's buffer (see detachFrames()).
            return .bulkString(buffer.getSlice(at: buffer.readerIndex + start, length: length))
        case UInt8(ascii: "!"):
            return .error(String(decoding: payload, as: UTF8.self))
        default:
            let text = String(decoding: payload, as: UTF8.self)
            guard text.utf8.count >= 4, Array(text.utf8)[3] == UInt8(ascii: ":") else { throw Error(reason: "verbatim string") }
            return .verbatim(format: String(text.prefix(3)), text: String(text.dropFirst(4)))
        }
    }

    /// The offset of the CR ending the line that follows the type byte at `parsed`, or `nil` if it has
    /// not arrived; scanning resumes where the last call stopped.
    private mutating func lineEnd(_ bytes: UnsafeRawBufferPointer, type: UInt8) throws(Error) -> Int? {
        guard Self.isTypeByte(type) else { throw Error(reason: "unknown type byte \(type)") }
        let start = parsed + 1
        var index = max(scanned, start)
        while index < bytes.count {
            let byte = bytes[index]
            bytesExamined += 1
            if byte == UInt8(ascii: "\r") {
                guard index + 1 < bytes.count else {
                    scanned = index
                    return nil
                }
                bytesExamined += 1
                guard bytes[index + 1] == UInt8(ascii: "\n") else { throw Error(reason: "CR without LF") }
                scanned = 0
                return index
            }
            if byte == UInt8(ascii: "\n") { throw Error(reason: "LF without CR") }
            index += 1
            guard index - start <= limits.maxLineLength else { throw Error.limit("line longer than \(limits.maxLineLength)") }
        }
        scanned = index
        return nil
    }

    private static func isTypeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"),
            UInt8(ascii: "%"), UInt8(ascii: "|"), UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "!"),
            UInt8(ascii: "="):
            true
        default: false
        }
    }

    private func integer(_ line: UnsafeRawBufferPointer) throws(Error) -> Int64 {
        guard let value = RESPValue.canonicalInteger(line) else {
            // Which complaint: digits that spell a number another way, or not a number at all.
            guard !line.isEmpty, line.count <= 20, Int64(String(decoding: line, as: UTF8.self)) != nil else { throw Error(reason: "integer") }
            throw Error(reason: "integer not canonical")
        }
        return value
    }
}

extension ErrorCode where Domain == RESPParser.Error {
    /// The bytes are not valid RESP.
    public static var malformed: Self { Self("resp.malformed") }
    /// The reply is, or declares itself, larger than ``RESPParser/Limits`` allow.
    public static var limitExceeded: Self { Self("resp.limit_exceeded") }
}
