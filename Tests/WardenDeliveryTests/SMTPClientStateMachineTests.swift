import Testing

@testable import WardenDelivery

struct SMTPClientStateMachineTests {
    typealias Machine = SMTPClientStateMachine

    static func machine(
        _ security: SMTPConfiguration.Security, credentials: Bool = false, loopback: Bool = false, eightBit: Bool = false
    ) -> Machine {
        Machine(
            settings: .init(
                security: security, heloName: "client.test", username: credentials ? "user" : nil,
                password: credentials ? "secret" : nil, hostIsLoopback: loopback, serverName: "mx.test:587"),
            envelope: .init(from: "a@example.com", to: "b@example.org", hasEightBitContent: eightBit))
    }

    static func reply(_ code: Int, _ lines: String...) -> SMTPReply {
        SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines)
    }

    @Test func startTLSThenAuthPlainThenTheMessage() {
        var machine = Self.machine(.startTLS, credentials: true, eightBit: true)
        #expect(machine.replyReceived(Self.reply(220, "hi")) == .send(.ehlo("client.test")))
        // Before TLS the server's AUTH and 8BITMIME are ignored: only STARTTLS matters.
        #expect(machine.replyReceived(Self.reply(250, "mx", "AUTH PLAIN", "STARTTLS")) == .send(.startTLS))
        #expect(machine.replyReceived(Self.reply(220, "go ahead")) == .startTLS)
        #expect(machine.tlsEstablished() == .send(.ehlo("client.test")))
        #expect(machine.isTLS)
        #expect(machine.replyReceived(Self.reply(250, "mx", "8BITMIME", "AUTH LOGIN PLAIN")) == .send(.authPlain(username: "user", password: "secret")))
        #expect(machine.replyReceived(Self.reply(235, "ok")) == .send(.mail(from: "a@example.com", eightBitMIME: true)))
        #expect(machine.replyReceived(Self.reply(250)) == .send(.recipient("b@example.org")))
        #expect(machine.replyReceived(Self.reply(250)) == .send(.data))
        #expect(machine.replyReceived(Self.reply(354)) == .sendContent(eightBit: true))
        #expect(!machine.isDelivered)
        #expect(machine.replyReceived(Self.reply(250, "queued")) == .delivered)
        #expect(machine.isDelivered)
        #expect(machine.replyReceived(Self.reply(221)) == .close)
    }

    @Test func authLoginAnswersBothPrompts() {
        var machine = Self.machine(.implicitTLS, credentials: true)
        _ = machine.replyReceived(Self.reply(220))
        #expect(machine.replyReceived(Self.reply(250, "mx", "AUTH=LOGIN")) == .send(.authLogin))
        #expect(machine.replyReceived(Self.reply(334, "VXNlcm5hbWU6")) == .send(.authLoginResponse("user")))
        #expect(machine.replyReceived(Self.reply(334, "UGFzc3dvcmQ6")) == .send(.authLoginResponse("secret")))
        #expect(machine.replyReceived(Self.reply(235)) == .send(.mail(from: "a@example.com", eightBitMIME: false)))
    }

    @Test func noSTARTTLSMeansNoDeliveryAndNoCredentials() {
        var machine = Self.machine(.startTLS, credentials: true)
        _ = machine.replyReceived(Self.reply(220))
        guard case .fail(let error, _) = machine.replyReceived(Self.reply(250, "mx", "AUTH PLAIN LOGIN")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .misconfigured)
        #expect(machine.replyReceived(Self.reply(250)) == .close)
    }

    @Test func credentialsAreNotSentInPlaintextToAnotherHost() {
        var machine = Self.machine(.none, credentials: true, loopback: false)
        _ = machine.replyReceived(Self.reply(220))
        guard case .fail(let error, _) = machine.replyReceived(Self.reply(250, "mx", "AUTH PLAIN")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .misconfigured)

        var loopback = Self.machine(.none, credentials: true, loopback: true)
        _ = loopback.replyReceived(Self.reply(220))
        #expect(loopback.replyReceived(Self.reply(250, "mx", "AUTH PLAIN")) == .send(.authPlain(username: "user", password: "secret")))
    }

    @Test func noUsableMechanismIsMisconfigured() {
        var machine = Self.machine(.implicitTLS, credentials: true)
        _ = machine.replyReceived(Self.reply(220))
        guard case .fail(let error, true) = machine.replyReceived(Self.reply(250, "mx", "AUTH CRAM-MD5 XOAUTH2")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .misconfigured)
    }

    struct Step: Sendable, CustomTestStringConvertible {
        let replies: [SMTPReply]
        let code: DeliveryError.Code
        let fragment: String
        var testDescription: String { "\(replies.map(\.code)) → \(code)" }
    }

    static let failures: [Step] = [
        Step(replies: [reply(554, "no service")], code: .unavailable, fragment: "refused the session (554)"),
        Step(replies: [reply(220), reply(421, "busy")], code: .unavailable, fragment: "EHLO (421)"),
        Step(replies: [reply(220), reply(250), reply(451, "4.3.0 later")], code: .unavailable, fragment: "deferred MAIL FROM (451 4.3.0)"),
        Step(replies: [reply(220), reply(250), reply(553, "5.7.1 not yours")], code: .rejected, fragment: "rejected MAIL FROM (553 5.7.1)"),
        Step(replies: [reply(220), reply(250), reply(250), reply(550, "5.1.1 unknown <b@example.org>")], code: .rejected, fragment: "rejected the recipient (550 5.1.1)"),
        Step(replies: [reply(220), reply(250), reply(250), reply(250), reply(554)], code: .rejected, fragment: "rejected DATA (554)"),
        Step(replies: [reply(220), reply(250), reply(250), reply(250), reply(354), reply(552, "5.3.4 too big")], code: .rejected, fragment: "rejected the message (552 5.3.4)"),
        Step(replies: [reply(220), reply(250), reply(250), reply(250), reply(354), reply(452)], code: .unavailable, fragment: "deferred the message (452)"),
        Step(replies: [reply(220), reply(250), reply(250), reply(250), reply(250)], code: .unavailable, fragment: "unexpected reply to DATA (250)"),
    ]

    @Test(arguments: failures)
    func failuresMapToCodes(_ step: Step) {
        var machine = Self.machine(.none, loopback: true)
        var last = Machine.Action.none
        for reply in step.replies { last = machine.replyReceived(reply) }
        guard case .fail(let error, _) = last else {
            Issue.record("expected a failure, got \(last)")
            return
        }
        #expect(error.code == step.code)
        #expect(error.message.contains(step.fragment), "\(error.message)")
        #expect(!error.message.contains("unknown <b@example.org>"))
        #expect(!machine.isDelivered)
    }

    @Test func authFailuresDoNotMentionTheCredentials() {
        for (code, expected) in [(535, DeliveryError.Code.misconfigured), (454, .unavailable), (534, .misconfigured)] {
            var machine = Self.machine(.implicitTLS, credentials: true)
            _ = machine.replyReceived(Self.reply(220))
            _ = machine.replyReceived(Self.reply(250, "mx", "AUTH PLAIN"))
            guard case .fail(let error, _) = machine.replyReceived(Self.reply(code, "dXNlcgBzZWNyZXQ= secret")) else {
                Issue.record("expected a failure")
                continue
            }
            #expect(error.code == expected)
            #expect(!error.message.contains("secret"))
            #expect(!error.message.contains("dXNlcgBzZWNyZXQ"))
        }
    }

    @Test func commandsNeverPrintCredentials() {
        let plain = SMTPCommand.authPlain(username: "user", password: "secret")
        #expect(plain.line == "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n")
        #expect("\(plain)" == "AUTH")
        #expect(!String(describing: [SMTPCommand.authLoginResponse("secret")]).contains("secret"))
        #expect(SMTPCommand.mail(from: "a@b.c", eightBitMIME: true).line == "MAIL FROM:<a@b.c> BODY=8BITMIME\r\n")
    }
}
