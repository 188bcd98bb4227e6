import NIOCore
import Testing

@testable import WardenRedis

/// The RESP decoder, fed all at once, one byte at a time and split at every offset, with RESP2 and RESP3
/// types, malformed input, the limits on what one reply may buffer, and the work a reply in pieces costs.
struct RESPParserTests {
    static let cases: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR wrong type\r\n", .error("ERR wrong type")),
        (":0\r\n", .integer(0)),
        (":-9223372036854775808\r\n", .integer(.min)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-17\r\n", .integer(-17)),
        ("$5\r\nhello\r\n", .bulkString(ByteBuffer(string: "hello"))),
        ("$0\r\n\r\n", .bulkString(ByteBuffer())),
        ("$-1\r\n", .bulkString(nil)),
        ("$4\r\na\r\nb\r\n", .bulkString(ByteBuffer(string: "a\r\nb"))),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        ("*2\r\n$3\r\nfoo\r\n:42\r\n", .array([.bulkString(ByteBuffer(string: "foo")), .integer(42)])),
        ("*2\r\n*1\r\n+a\r\n*0\r\n", .array([.array([.simpleString("a")]), .array([])])),
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",3.25\r\n", .double(3.25)),
        (",-inf\r\n", .double(-.infinity)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("!11\r\nSYNTAX oops\r\n", .error("SYNTAX oops")),
        ("=15\r\ntxt:Some string\r\n", .verbatim(format: "txt", text: "Some string")),
        ("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", .map([.init(key: .simpleString("a"), value: .integer(1)), .init(key: .simpleString("b"), value: .integer(2))])),
        ("~2\r\n+x\r\n+y\r\n", .set([.simpleString("x"), .simpleString("y")])),
        (">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n", .push([.simpleString("message"), .simpleString("chan"), .bulkString(ByteBuffer(string: "hi"))])),
        ("|1\r\n+ttl\r\n:3600\r\n+value\r\n", .simpleString("value")),
    ]

    @Test(arguments: 0..<cases.count)
    func allAtOnce(_ index: Int) throws {
        let (wire, expected) = Self.cases[index]
        var parser = RESPParser()
        var buffer = ByteBuffer(string: wire + "+NEXT\r\n")
        #expect(try parser.parse(&buffer) == expected)
        #expect(try parser.parse(&buffer) == .simpleString("NEXT"))
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: 0..<cases.count)
    func byteByByte(_ index: Int) throws {
        let (wire, expected) = Self.cases[index]
        let bytes = Array(wire.utf8)
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var parsed: RESPValue?
        for (offset, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            parsed = try parser.parse(&buffer)
            if offset < bytes.count - 1 {
                #expect(parsed == nil, "parsed early at byte \(offset)")
                #expect(buffer.readableBytes == offset + 1, "consumed bytes of an incomplete value")
            }
        }
        #expect(parsed == expected)
        #expect(buffer.readableBytes == 0)
    }

    /// Every case back to back, split into two reads at every offset: one parser gives every value, in order.
    @Test func aStreamSplitAtEveryOffsetGivesTheSameValues() throws {
        let wire = Array(Self.cases.map(\.0).joined().utf8)
        let expected = Self.cases.map(\.1)
        for split in 0...wire.count {
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: wire[..<split])
            var values: [RESPValue] = []
            while let value = try parser.parse(&buffer) { values.append(value) }
            buffer.writeBytes(wire[split...])
            while let value = try parser.parse(&buffer) { values.append(value) }
            #expect(values == expected, "split at \(split)")
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test(arguments: [
        "?\r\n", "+OK\n", "+OK\rX", ":abc\r\n", ":+1\r\n", ":01\r\n", ":\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "$3\r\nab\r\n\r\n",
        "*-2\r\n", ":-0\r\n", ":-\r\n", ":1-\r\n", ":9223372036854775808\r\n", ":-9223372036854775809\r\n",
        ":123456789012345678901\r\n", "#x\r\n", "_x\r\n", ",abc\r\n", "(12a\r\n", "=3\r\nabc\r\n", "$99999999999\r\n", "*9999999999\r\n",
    ])
    func malformedInputIsAnError(_ wire: String) throws {
        var parser = RESPParser()
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RESPParser.Error.self) { _ = try parser.parse(&buffer) }
    }

    @Test func nestingAndLengthsAreBounded() throws {
        var limits = RESPParser.Limits()
        limits.maxDepth = 4
        var parser = RESPParser(limits: limits)
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 6) + ":1\r\n")
        #expect(throws: RESPParser.Error.self) { _ = try parser.parse(&deep) }
        var shallow = ByteBuffer(string: String(repeating: "*1\r\n", count: 3) + ":1\r\n")
        #expect(try parser.parse(&shallow) != nil)
        limits.maxBulkLength = 8
        parser = RESPParser(limits: limits)
        var big = ByteBuffer(string: "$9\r\n")
        #expect(throws: RESPParser.Error.self) { _ = try parser.parse(&big) }
    }

    /// Lengths a reply declares are checked at their header: what cannot fit is refused before a byte of
    /// it is buffered.
    @Test func declaredLengthsPastTheLimitsAreRefusedAtTheirHeader() throws {
        // The default bulk limit (64 MiB), from the header alone.
        var parser = RESPParser()
        var huge = ByteBuffer(string: "$999999999999\r\n")
        let hugeBulk = try #require(throws: RESPParser.Error.self) { try parser.parse(&huge) }
        #expect(hugeBulk.code == .limitExceeded)
        // A bulk string within the bulk limit that cannot fit in the reply's byte limit.
        var limits = RESPParser.Limits()
        limits.maxValueBytes = 1000
        parser = RESPParser(limits: limits)
        var single = ByteBuffer(string: "$5000\r\n")
        let bulkPastTheReply = try #require(throws: RESPParser.Error.self) { try parser.parse(&single) }
        #expect(bulkPastTheReply.code == .limitExceeded)
        // Each bulk string is within the bulk limit, but the second would take the reply past its byte limit.
        parser = RESPParser(limits: limits)
        var buffer = ByteBuffer(string: "*2\r\n$600\r\n" + String(repeating: "a", count: 600) + "\r\n")
        #expect(try parser.parse(&buffer) == nil)
        buffer.writeString("$600\r\n")
        let secondBulk = try #require(throws: RESPParser.Error.self) { try parser.parse(&buffer) }
        #expect(secondBulk.code == .limitExceeded)
        // An aggregate declaring more values than a reply may hold.
        limits = RESPParser.Limits()
        limits.maxValueCount = 500
        parser = RESPParser(limits: limits)
        var wide = ByteBuffer(string: "*2\r\n*400\r\n")
        #expect(try parser.parse(&wide) == nil)
        wide.writeString(String(repeating: ":1\r\n", count: 400) + "*200\r\n")
        let tooManyValues = try #require(throws: RESPParser.Error.self) { try parser.parse(&wide) }
        #expect(tooManyValues.code == .limitExceeded)
    }

    /// Endless replies, fed the way a connection reads them, are refused once the bytes buffered for them
    /// pass the limit: never more than the limit plus one read is held.
    @Test(arguments: [
        ("*1000000\r\n", "$65530\r\n" + String(repeating: "x", count: 65530) + "\r\n"),  // an array of bulk strings
        ("%500000\r\n", "+key\r\n$65530\r\n" + String(repeating: "x", count: 65530) + "\r\n"),  // a map
        ("*1000000\r\n", "*1\r\n+a\r\n"),  // many small aggregates: refused by the value count first
    ])
    func anEndlessReplyIsRefusedAtTheDefaultLimit(_ head: String, _ element: String) throws {
        var parser = RESPParser()
        let limit = RESPParser.Limits().maxValueBytes
        var buffer = ByteBuffer(string: head)
        let chunk = ByteBuffer(string: String(repeating: element, count: max(1, 65536 / element.utf8.count)))
        var written = buffer.readableBytes
        let error = try #require(throws: RESPParser.Error.self) {
            while written <= 2 * limit {
                let value = try parser.parse(&buffer)
                #expect(value == nil)
                var next = chunk
                buffer.writeBuffer(&next)
                written += chunk.readableBytes
            }
        }
        #expect(error.code == .limitExceeded)
        #expect(written <= limit + chunk.readableBytes)
    }

    /// A 4 MiB reply arriving in 1 KiB reads: each byte is examined once (the decoder used to re-parse the
    /// incomplete reply from its start on every read, 0.9 GB examined for the array case).
    @Test(arguments: [
        // An array of 65,536 bulk strings of 57 bytes (64 bytes each on the wire).
        "*65536\r\n" + String(repeating: "$57\r\n" + String(repeating: "v", count: 57) + "\r\n", count: 65536),
        // One bulk string of 4 MiB.
        "$4194304\r\n" + String(repeating: "w", count: 4 << 20) + "\r\n",
    ])
    func aLargeReplyInSmallReadsIsExaminedOnce(_ wire: String) throws {
        let bytes = Array(wire.utf8)
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var reads = 0
        var value: RESPValue?
        for start in stride(from: 0, to: bytes.count, by: 1024) {
            #expect(value == nil)
            buffer.writeBytes(bytes[start..<min(start + 1024, bytes.count)])
            reads += 1
            value = try parser.parse(&buffer)
        }
        let reply = try #require(value)
        #expect(reply.elements?.count == 65536 || reply.string?.utf8.count == 4 << 20)
        #expect(buffer.readableBytes == 0)
        // Lines and terminators once each, plus at most the type byte and a CR looked at again per read.
        let framing = bytes.count - (reply.elements.map { $0.count * 57 } ?? (4 << 20))
        #expect(parser.bytesExamined <= framing + 2 * reads, "examined \(parser.bytesExamined) bytes of framing \(framing) in \(reads) reads")
    }

    /// Bulk strings are slices of the stream's buffer; a value the parser is still waiting on must not keep
    /// that buffer shared (each append would then copy it), and a finished value must not change when the
    /// buffer is written again.
    @Test func slicesOfTheStreamNeitherPinNorFollowIt() throws {
        var parser = RESPParser()
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        buffer.writeString("*3\r\n$5\r\nhello\r\n*1\r\n$5\r\nworld\r\n")
        #expect(try parser.parse(&buffer) == nil)
        let before = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        buffer.writeString("$3\r\nend\r\n")
        let after = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(before == after, "the append copied the stream's buffer: a slice of it was still held")
        let value = try #require(try parser.parse(&buffer))
        let expected = RESPValue.array([
            .bulkString(ByteBuffer(string: "hello")), .array([.bulkString(ByteBuffer(string: "world"))]), .bulkString(ByteBuffer(string: "end")),
        ])
        #expect(value == expected)
        // The stream's buffer reused in place (as NIO's decoder does) leaves the parsed value as it was.
        buffer.clear()
        buffer.writeString(String(repeating: "x", count: 64))
        buffer.moveReaderIndex(to: 0)
        #expect(value == expected)
        #expect(value.elements?[0].string == "hello")
    }

    /// Integers in bulk strings (as hash fields hold them): the canonical spelling is read in place, any
    /// other that Swift reads still reads as before.
    @Test func bulkStringsReadAsIntegers() {
        #expect(RESPValue.bulkString(ByteBuffer(string: "1733000000000")).int == 1_733_000_000_000)
        #expect(RESPValue.bulkString(ByteBuffer(string: "-42")).int == -42)
        #expect(RESPValue.bulkString(ByteBuffer(string: "-9223372036854775808")).int == .min)
        #expect(RESPValue.bulkString(ByteBuffer(string: "007")).int == 7)
        #expect(RESPValue.bulkString(ByteBuffer(string: "+5")).int == 5)
        #expect(RESPValue.bulkString(ByteBuffer(string: "9223372036854775808")).int == nil)
        #expect(RESPValue.bulkString(ByteBuffer(string: "12a")).int == nil)
        #expect(RESPValue.bulkString(ByteBuffer(string: "")).int == nil)
    }

    /// Canonical integers of every length read alike on the short path (up to 18 digits) and the long one.
    @Test func canonicalIntegersOfEveryLength() {
        var value: Int64 = 0
        for digit in 1...19 {
            value = value * 10 + Int64(digit % 10 == 0 ? 7 : digit % 10)
            for candidate in [value, -value] {
                let text = Array(String(candidate).utf8)
                #expect(text.withUnsafeBytes { RESPValue.canonicalInteger($0) } == candidate)
            }
        }
        for text in ["0", "-0", "01", "1a", "1-", "18446744073709551616", "9223372036854775808", "", "-", " 1", "1 "] {
            let expected: Int64? = text == "0" ? 0 : nil
            #expect(Array(text.utf8).withUnsafeBytes { RESPValue.canonicalInteger($0) } == expected, "\(text)")
        }
    }

    // MARK: Unparsed arrays

    /// With `unparsedArrays`, every array comes back as its own bytes and everything else as before, fed
    /// at once, byte by byte, or split at every offset of the whole stream.
    @Test func arraysComeBackAsTheirBytesWhenAsked() throws {
        func expected(_ wire: String, _ value: RESPValue) -> RESPValue { wire.hasPrefix("*") ? .frame(ByteBuffer(string: wire)) : value }
        for (wire, value) in Self.cases {
            var parser = RESPParser()
            var buffer = ByteBuffer(string: wire + "*1\r\n+NEXT\r\n")
            #expect(try parser.parse(&buffer, unparsedArrays: true) == expected(wire, value))
            #expect(try parser.parse(&buffer, unparsedArrays: true) == .frame(ByteBuffer(string: "*1\r\n+NEXT\r\n")))
            #expect(buffer.readableBytes == 0)
            // Byte by byte: nothing consumed before the value is whole.
            var bytewise = RESPParser()
            var pieces = ByteBuffer()
            var parsed: RESPValue?
            for byte in wire.utf8 {
                #expect(parsed == nil)
                pieces.writeInteger(byte)
                parsed = try bytewise.parse(&pieces, unparsedArrays: true)
            }
            #expect(parsed == expected(wire, value))
        }
        let wire = Array(Self.cases.map(\.0).joined().utf8)
        let values = Self.cases.map { expected($0.0, $0.1) }
        for split in 0...wire.count {
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: wire[..<split])
            var found: [RESPValue] = []
            while let value = try parser.parse(&buffer, unparsedArrays: true) { found.append(value) }
            buffer.writeBytes(wire[split...])
            while let value = try parser.parse(&buffer, unparsedArrays: true) { found.append(value) }
            #expect(found == values, "split at \(split)")
        }
    }

    /// An unparsed array is checked as strictly as a parsed one: anything malformed inside it, at any depth,
    /// is an error, whether it arrives at once (the one-pass skim) or in pieces (the incremental path).
    @Test(arguments: [
        "?\r\n", "+OK\n", "+OK\rX", ":abc\r\n", ":+1\r\n", ":01\r\n", ":\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "$3\r\nab\r\n\r\n",
        "*-2\r\n", ":-0\r\n", "$01\r\na\r\n", "#x\r\n", "_x\r\n", ",abc\r\n", "(12a\r\n", "=3\r\nabc\r\n", "$99999999999\r\n", "*9999999999\r\n",
    ])
    func malformedInsideAnUnparsedArrayIsAnError(_ element: String) throws {
        for wire in ["*1\r\n" + element, "*2\r\n$2\r\nok\r\n*1\r\n" + element] {
            var parser = RESPParser()
            var whole = ByteBuffer(string: wire + "+tail\r\n")
            #expect(throws: RESPParser.Error.self, "\(wire)") { _ = try parser.parse(&whole, unparsedArrays: true) }
            var pieces = RESPParser()
            var buffer = ByteBuffer()
            #expect(throws: RESPParser.Error.self, "\(wire) in pieces") {
                for byte in (wire + "+tail\r\n").utf8 {
                    buffer.writeInteger(byte)
                    _ = try pieces.parse(&buffer, unparsedArrays: true)
                }
            }
        }
    }

    /// The limits hold for unparsed arrays too, at once and in pieces.
    @Test func unparsedArraysKeepTheLimits() throws {
        var limits = RESPParser.Limits()
        limits.maxDepth = 4
        limits.maxValueCount = 50
        limits.maxBulkLength = 8
        limits.maxValueBytes = 200
        let refused = [
            String(repeating: "*1\r\n", count: 6) + ":1\r\n",  // too deep
            "*60\r\n" + String(repeating: ":1\r\n", count: 60),  // too many values
            "*1\r\n$9\r\n123456789\r\n",  // a bulk string too long
            "*30\r\n" + String(repeating: "$8\r\n12345678\r\n", count: 30),  // too many bytes
        ]
        for wire in refused {
            var parser = RESPParser(limits: limits)
            var buffer = ByteBuffer(string: wire)
            #expect(throws: RESPParser.Error.self, "\(wire.prefix(12))") { _ = try parser.parse(&buffer, unparsedArrays: true) }
        }
        var parser = RESPParser(limits: limits)
        var within = ByteBuffer(string: String(repeating: "*1\r\n", count: 3) + ":1\r\n")
        #expect(try parser.parse(&within, unparsedArrays: true) == .frame(ByteBuffer(string: String(repeating: "*1\r\n", count: 3) + ":1\r\n")))
    }

    /// Random arrays of the cases' values, nested: the unparsed bytes are the wire bytes, and parsing them
    /// gives what parsing the wire gives.
    @Test func unparsedArraysParseToTheSameValues() throws {
        var generator = SystemRandomNumberGenerator()
        func array(depth: Int) -> String {
            let count = Int.random(in: 0...5, using: &generator)
            var text = "*\(count)\r\n"
            for _ in 0..<count {
                text += depth < 3 && Bool.random(using: &generator) ? array(depth: depth + 1) : Self.cases.filter { !$0.0.hasPrefix(">") }.randomElement(using: &generator)!.0
            }
            return text
        }
        for _ in 0..<300 {
            let wire = array(depth: 0)
            var unparsed = RESPParser()
            var buffer = ByteBuffer(string: wire)
            let frame = try #require(try unparsed.parse(&buffer, unparsedArrays: true))
            #expect(frame == .frame(ByteBuffer(string: wire)))
            guard case .frame(var bytes) = frame else { continue }
            var again = RESPParser()
            var plain = RESPParser()
            var original = ByteBuffer(string: wire)
            #expect(try again.parse(&bytes) == plain.parse(&original))
        }
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "key", RedisArgument(bytes: [0, 13, 10, 255]), 42], into: &buffer)
        #expect(buffer.readBytes(length: buffer.readableBytes) == Array("*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$2\r\n42\r\n".utf8))
    }
}
