import NIOCore
import Testing
import WardenRedis

/// The RESP decoder, fed all at once and one byte at a time, with RESP2 and RESP3 types and malformed input.
struct RESPParserTests {
    static let cases: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR wrong type\r\n", .error("ERR wrong type")),
        (":0\r\n", .integer(0)),
        (":-9223372036854775808\r\n", .integer(.min)),
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
        var buffer = ByteBuffer(string: wire + "+NEXT\r\n")
        #expect(try RESPParser().parse(&buffer) == expected)
        #expect(try RESPParser().parse(&buffer) == .simpleString("NEXT"))
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: 0..<cases.count)
    func byteByByte(_ index: Int) throws {
        let (wire, expected) = Self.cases[index]
        let bytes = Array(wire.utf8)
        var buffer = ByteBuffer()
        var parsed: RESPValue?
        for (offset, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            parsed = try RESPParser().parse(&buffer)
            if offset < bytes.count - 1 {
                #expect(parsed == nil, "parsed early at byte \(offset)")
                #expect(buffer.readableBytes == offset + 1, "consumed bytes of an incomplete value")
            }
        }
        #expect(parsed == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: [
        "?\r\n", "+OK\n", "+OK\rX", ":abc\r\n", ":+1\r\n", ":01\r\n", ":\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "$3\r\nab\r\n\r\n",
        "*-2\r\n", "#x\r\n", "_x\r\n", ",abc\r\n", "(12a\r\n", "=3\r\nabc\r\n", "$99999999999\r\n", "*9999999999\r\n",
    ])
    func malformedInputIsAnError(_ wire: String) throws {
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RESPParser.Error.self) { _ = try RESPParser().parse(&buffer) }
    }

    @Test func nestingAndLengthsAreBounded() throws {
        var limits = RESPParser.Limits()
        limits.maxDepth = 4
        var deep = ByteBuffer(string: String(repeating: "*1\r\n", count: 6) + ":1\r\n")
        #expect(throws: RESPParser.Error.self) { _ = try RESPParser(limits: limits).parse(&deep) }
        var shallow = ByteBuffer(string: String(repeating: "*1\r\n", count: 3) + ":1\r\n")
        #expect(try RESPParser(limits: limits).parse(&shallow) != nil)
        limits.maxBulkLength = 8
        var big = ByteBuffer(string: "$9\r\n")
        #expect(throws: RESPParser.Error.self) { _ = try RESPParser(limits: limits).parse(&big) }
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "key", RedisArgument(bytes: [0, 13, 10, 255]), 42], into: &buffer)
        #expect(buffer.readBytes(length: buffer.readableBytes) == Array("*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$2\r\n42\r\n".utf8))
    }
}
