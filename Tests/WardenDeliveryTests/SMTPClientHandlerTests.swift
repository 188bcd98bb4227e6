import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import WardenDelivery

/// The channel handler on an EmbeddedChannel: what it writes, and what it does with hostile input.
struct SMTPClientHandlerTests {
    static func channel(_ security: SMTPConfiguration.Security) throws -> (EmbeddedChannel, SMTPClientHandler) {
        let channel = EmbeddedChannel()
        let message = EmailMessage(from: "a@example.com", to: "b@example.org", subject: "s", body: "hello\n.dot")
        let handler = SMTPClientHandler(
            machine: SMTPClientStateMachine(
                settings: .init(
                    security: security, heloName: "client.test", username: nil, password: nil, hostIsLoopback: true,
                    serverName: "127.0.0.1:25"),
                envelope: .init(from: message.from, to: message.to, hasEightBitContent: false)),
            content: MIMEContent(message, date: Date(timeIntervalSince1970: 0), messageID: "<1@example.com>"),
            serverName: "127.0.0.1:25", commandTimeout: .seconds(30), logger: Logger(label: "test"),
            eventLoop: channel.eventLoop,
            makeTLSHandler: { throw DeliveryError(.misconfigured, "no TLS in this test") })
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return (channel, handler)
    }

    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func aWholeConversationInPlaintext() throws {
        let (channel, handler) = try Self.channel(.none)
        var delivered = false
        handler.result.assumeIsolated().whenSuccess { delivered = true }
        // The greeting split across reads, the EHLO reply and the next replies in one read.
        try channel.writeInbound(ByteBuffer(string: "220 mx"))
        #expect(try Self.written(channel) == "")
        try channel.writeInbound(ByteBuffer(string: " ready\r\n"))
        #expect(try Self.written(channel) == "EHLO client.test\r\n")
        try channel.writeInbound(ByteBuffer(string: "250-mx\r\n250 8BITMIME\r\n"))
        #expect(try Self.written(channel) == "MAIL FROM:<a@example.com>\r\n")
        try channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(try Self.written(channel) == "RCPT TO:<b@example.org>\r\n")
        try channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(try Self.written(channel) == "DATA\r\n")
        try channel.writeInbound(ByteBuffer(string: "354 go\r\n"))
        let content = try Self.written(channel)
        #expect(content.hasSuffix("\r\n\r\nhello\r\n..dot\r\n.\r\n"))
        #expect(!delivered)
        try channel.writeInbound(ByteBuffer(string: "250 queued\r\n"))
        #expect(delivered)
        #expect(try Self.written(channel) == "QUIT\r\n")
        try channel.writeInbound(ByteBuffer(string: "221 bye\r\n"))
        #expect(!channel.isActive)
    }

    @Test func dataInjectedAfterTheSTARTTLSReplyIsRefused() throws {
        let (channel, handler) = try Self.channel(.startTLS)
        var failure: (any Error)?
        handler.result.assumeIsolated().whenFailure { failure = $0 }
        try channel.writeInbound(ByteBuffer(string: "220 mx\r\n"))
        try channel.writeInbound(ByteBuffer(string: "250-mx\r\n250 STARTTLS\r\n"))
        #expect(try Self.written(channel).hasSuffix("STARTTLS\r\n"))
        // A man in the middle appends a reply in plaintext that would be read as if it came over TLS.
        try channel.writeInbound(ByteBuffer(string: "220 go ahead\r\n250-mx\r\n250 AUTH PLAIN\r\n"))
        let error = try #require(failure as? DeliveryError)
        #expect(error.code == .unavailable)
        #expect(error.message.contains("after its STARTTLS reply"))
        #expect(!channel.isActive)
    }

    @Test func aMalformedReplyFailsTheDelivery() throws {
        let (channel, handler) = try Self.channel(.none)
        var failure: (any Error)?
        handler.result.assumeIsolated().whenFailure { failure = $0 }
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n"))
        let error = try #require(failure as? DeliveryError)
        #expect(error.code == .unavailable)
        #expect(error.message.contains("malformed reply"))
        #expect(!channel.isActive)
    }

    @Test func aConnectionLostBeforeTheFinalReplyIsNotDelivered() throws {
        let (channel, handler) = try Self.channel(.none)
        var failure: (any Error)?
        handler.result.assumeIsolated().whenFailure { failure = $0 }
        for reply in ["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
            try channel.writeInbound(ByteBuffer(string: reply))
        }
        _ = try channel.close().wait()
        let error = try #require(failure as? DeliveryError)
        #expect(error.code == .unavailable)
        #expect(error.message.contains("end of data"))
    }
}
