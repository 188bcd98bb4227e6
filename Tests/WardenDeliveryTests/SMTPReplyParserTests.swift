import NIOCore
import Testing

@testable import WardenDelivery

struct SMTPReplyParserTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let input: String
        let replies: [SMTPReply]
        var testDescription: String { input.debugDescription }
    }

    static let vectors: [Vector] = [
        Vector(input: "220 mail.example.com ESMTP ready\r\n", replies: [SMTPReply(code: 220, lines: ["mail.example.com ESMTP ready"])]),
        Vector(
            input: "250-mail.example.com\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
            replies: [SMTPReply(code: 250, lines: ["mail.example.com", "SIZE 1000", "8BITMIME", "STARTTLS"])]),
        Vector(input: "250\r\n", replies: [SMTPReply(code: 250, lines: [""])]),
        Vector(input: "354 go ahead\n", replies: [SMTPReply(code: 354, lines: ["go ahead"])]),
        Vector(
            input: "250 OK\r\n550-5.1.1 no\r\n550 5.1.1 such user\r\n",
            replies: [SMTPReply(code: 250, lines: ["OK"]), SMTPReply(code: 550, lines: ["5.1.1 no", "5.1.1 such user"])]),
        Vector(input: "250-first\r\n250-second", replies: []),
    ]

    @Test(arguments: vectors)
    func allAtOnce(_ vector: Vector) throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: vector.input)
        var replies: [SMTPReply] = []
        while let reply = try parser.parse(&buffer) { replies.append(reply) }
        #expect(replies == vector.replies)
    }

    @Test(arguments: vectors)
    func byteByByte(_ vector: Vector) throws {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer()
        var replies: [SMTPReply] = []
        for byte in vector.input.utf8 {
            buffer.writeInteger(byte)
            while let reply = try parser.parse(&buffer) { replies.append(reply) }
        }
        #expect(replies == vector.replies)
    }

    @Test(arguments: [
        ("250-a\r\n251 b\r\n", SMTPReplyParser.ParseError.inconsistentCode),
        ("25\r\n", .malformedLine),
        ("abc hello\r\n", .malformedLine),
        ("250_hello\r\n", .malformedLine),
        ("150 too low\r\n", .malformedLine),
        ("650 too high\r\n", .malformedLine),
        ("250 " + String(repeating: "x", count: 3000), .lineTooLong),
        ("250 " + String(repeating: "x", count: 3000) + "\r\n", .lineTooLong),
        (String(repeating: "250-x\r\n", count: 300), .tooManyLines),
    ])
    func malformedRepliesAreErrors(_ input: String, _ expected: SMTPReplyParser.ParseError) {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: input)
        #expect(throws: expected) {
            while try parser.parse(&buffer) != nil {}
        }
    }

    @Test func enhancedStatusCodesAreRecognised() {
        #expect(SMTPReply(code: 550, lines: ["5.1.1 no such user"]).summary == "550 5.1.1")
        #expect(SMTPReply(code: 535, lines: ["5.7.8 Authentication credentials invalid"]).enhancedStatus == "5.7.8")
        #expect(SMTPReply(code: 550, lines: ["no such user <ada@example.org>"]).summary == "550")
        #expect(SMTPReply(code: 550, lines: ["5.1.x nope"]).enhancedStatus == nil)
    }
}
