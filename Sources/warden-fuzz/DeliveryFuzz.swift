import NIOCore

@testable import WardenDelivery

/// One fuzzing input pushed through the SMTP client's reply parsing, with the properties it must keep.
///
/// Used by the `warden-fuzz` target (under libFuzzer and as a corpus replay in the test script). A
/// violated property stops the process (`precondition`), which the fuzzer reports as a crash.
enum DeliveryFuzzEntry {
    static func run(_ input: [UInt8]) {
        // The replies a server's bytes frame into do not depend on how the bytes arrive: all at once, one
        // byte at a time, or in two pieces. An error ends the stream at the same reply in every case.
        let whole = replies([input[...]])
        let bytewise = replies(input.indices.map { input[$0...$0] })
        let split = input.count / 2
        let halves = replies([input[..<split], input[split...]])
        precondition(whole == bytewise && whole == halves, "SMTP reply framing depends on how the bytes arrive")
        for reply in whole.replies {
            precondition((200...599).contains(reply.code), "SMTP reply code out of range")
            precondition(!reply.lines.isEmpty && reply.lines.count <= SMTPReplyParser.maximumLines, "SMTP reply line count")
            // What goes into errors is only the code and a well-formed enhanced status.
            if let status = reply.enhancedStatus {
                precondition(status.allSatisfy { $0.isASCIIDigit || $0 == "." } && status.count <= 11, "enhanced status")
            }
            _ = SMTPCapabilities(ehloReply: reply)
        }
    }

    private struct Outcome: Equatable {
        var replies: [SMTPReply] = []
        var error: SMTPReplyParser.ParseError?
    }

    private static func replies(_ chunks: [ArraySlice<UInt8>]) -> Outcome {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer()
        var outcome = Outcome()
        for chunk in chunks {
            buffer.writeBytes(chunk)
            do {
                while let reply = try parser.parse(&buffer) { outcome.replies.append(reply) }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        return outcome
    }
}
