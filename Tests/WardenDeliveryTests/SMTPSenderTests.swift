import Foundation
import Testing
import WardenDelivery

/// SMTPSender against a real SMTP server (aiosmtpd), one server per test on a free port.
@Suite(.serialized)
struct SMTPSenderTests {
    static let user = "warden"
    static let password = "Pa55-\(UUID().uuidString)"

    static func configuration(
        _ port: Int, _ security: SMTPConfiguration.Security, ca: String? = nil, host: String = "127.0.0.1",
        username: String? = nil, password: String? = nil
    ) -> SMTPConfiguration {
        SMTPConfiguration(
            host: host, port: port, security: security, username: username, password: password,
            heloName: "warden.test", connectTimeout: .seconds(5), commandTimeout: .seconds(10),
            additionalTrustedCertificatesPEM: ca.map { [$0] } ?? [])
    }

    @Test(.requiresPython) func deliversInPlaintextToALoopbackServer() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await SMTPTestServer.with([], in: directory) { server in
            let events = EventRecorder()
            let sender = SMTPSender(configuration: Self.configuration(server.port, .none), onEvent: events.handler)
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Hello", body: "Plain text.\n"))

            let received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].mail_from == "warden@example.com")
            #expect(received[0].rcpt_tos == ["ada@example.org"])
            #expect(received[0].tls == false)
            #expect(received[0].ehlo_name == "warden.test")
            #expect(received[0].headers["Subject"] == "Hello")
            #expect(received[0].transfer_encoding == "7bit")
            #expect(received[0].text == "Plain text.\n")
            #expect(events.all.map(\.action) == ["delivery.sent"])
            #expect(events.all.first?.details == ["channel": "email", "transport": "smtp"])
        }
    }

    @Test(.requiresPython) func deliversOverSTARTTLSWithAuthPlainAndTheMessageParsesBack() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        let options = ["--starttls", certificates.certificatePath, certificates.keyPath, "--auth", Self.user, Self.password]
        try await SMTPTestServer.with(options, in: directory) { server in
            let subject = "Ünïcødé sign-in code ✓ — 验证码 and a long tail to force folding onto several encoded words"
            let body = "Grüße aus Zürich — 🔐 123456\n.leading dot\n..two dots\n.\nCRLF line\r\nbare CR line\rlast line, no newline"
            let fixed = Date(timeIntervalSince1970: 1_748_941_445)  // Tue, 03 Jun 2025 09:04:05 +0000
            let sender = SMTPSender(
                configuration: Self.configuration(
                    server.port, .startTLS, ca: certificates.caPEM, username: Self.user, password: Self.password),
                now: { fixed })
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: subject, body: body))

            let received = try server.received()
            try #require(received.count == 1)
            let message = received[0]
            #expect(message.tls)
            #expect(message.auth_user == Self.user)
            #expect(message.auth_mechanism == "PLAIN")
            #expect(message.mail_options.contains("BODY=8BITMIME"))
            #expect(message.headers["From"] == "warden@example.com")
            #expect(message.headers["To"] == "ada@example.org")
            #expect(message.headers["Subject"] == subject)
            #expect(message.headers["Date"] == "Tue, 03 Jun 2025 09:04:05 +0000")
            #expect(message.headers["MIME-Version"] == "1.0")
            #expect(message.headers["Message-ID"]?.hasSuffix("@example.com>") == true)
            #expect(message.content_type == "text/plain")
            #expect(message.charset == "utf-8")
            #expect(message.transfer_encoding == "8bit")
            #expect(message.defects.isEmpty)
            #expect(message.header_counts.values.allSatisfy { $0 == 1 })
            #expect(message.text == "Grüße aus Zürich — 🔐 123456\n.leading dot\n..two dots\n.\nCRLF line\nbare CR line\nlast line, no newline\n")
            // What the server kept after undoing the dot-stuffing: single dots again, CRLF everywhere.
            #expect(message.raw.contains("\r\n.leading dot\r\n..two dots\r\n.\r\nCRLF line\r\n"))
            #expect(!message.raw.contains("\n\n"))
            #expect(message.raw.contains("Subject: =?UTF-8?B?"))
        }
    }

    @Test(.requiresPython) func usesAuthLoginWhenOnlyLoginIsOffered() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        let options = [
            "--starttls", certificates.certificatePath, certificates.keyPath, "--auth", Self.user, Self.password,
            "--exclude-auth", "PLAIN",
        ]
        try await SMTPTestServer.with(options, in: directory) { server in
            let sender = SMTPSender(
                configuration: Self.configuration(
                    server.port, .startTLS, ca: certificates.caPEM, username: Self.user, password: Self.password))
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Login", body: "x"))
            let received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].auth_mechanism == "LOGIN")
            #expect(received[0].auth_user == Self.user)
        }
    }

    @Test(.requiresPython) func deliversOverImplicitTLS() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        // aiosmtpd counts only STARTTLS as TLS when deciding to offer AUTH, so let it offer AUTH on this
        // (implicitly encrypted) connection.
        let options = [
            "--implicit-tls", certificates.certificatePath, certificates.keyPath, "--auth", Self.user, Self.password,
            "--auth-plaintext",
        ]
        try await SMTPTestServer.with(options, in: directory) { server in
            let sender = SMTPSender(
                configuration: Self.configuration(
                    server.port, .implicitTLS, ca: certificates.caPEM, host: "localhost", username: Self.user,
                    password: Self.password))
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "TLS", body: "é"))
            let received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].tls)
            #expect(received[0].auth_mechanism == "PLAIN")
            #expect(received[0].text == "é\n")
        }
    }

    @Test(.requiresPython) func sendsQuotedPrintableWhenTheServerLacks8BITMIME() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await SMTPTestServer.with(["--no-8bitmime"], in: directory) { server in
            let longLine = String(repeating: "ü=", count: 700)
            let body = "Grüße = equals\ntrailing spaces   \ntab\t\n\(longLine)\n.dot"
            let sender = SMTPSender(configuration: Self.configuration(server.port, .none))
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "QP", body: body))
            let received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].transfer_encoding == "quoted-printable")
            #expect(!received[0].mail_options.contains("BODY=8BITMIME"))
            #expect(received[0].text == body + "\n")
            #expect(received[0].raw.utf8.allSatisfy { $0 < 0x80 })
            #expect(received[0].raw.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        }
    }

    @Test(.requiresPython) func aLineTooLongFor8bitGoesQuotedPrintableEvenWith8BITMIME() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await SMTPTestServer.with([], in: directory) { server in
            let body = "start\n" + String(repeating: "ä", count: 600) + "\nend"
            let sender = SMTPSender(configuration: Self.configuration(server.port, .none))
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Long", body: body))
            let received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].transfer_encoding == "quoted-printable")
            #expect(received[0].text == body + "\n")
        }
    }

    @Test(.requiresPython) func aWrongPasswordFailsWithoutRevealingItOrTheMessage() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        let options = ["--starttls", certificates.certificatePath, certificates.keyPath, "--auth", Self.user, Self.password]
        try await SMTPTestServer.with(options, in: directory) { server in
            let wrong = "Wr0ng-\(UUID().uuidString)"
            let marker = "CODE-\(UUID().uuidString)"
            let events = EventRecorder()
            let logs = LogRecorder()
            let sender = SMTPSender(
                configuration: Self.configuration(server.port, .startTLS, ca: certificates.caPEM, username: Self.user, password: wrong),
                onEvent: events.handler, logger: logs.logger())
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "S-\(marker)", body: "Your code: \(marker)"))
            }
            #expect(error.code == .misconfigured)
            #expect(error.message.contains("535"))
            let plainResponse = Data(([0] + Array(Self.user.utf8) + [0] + Array(wrong.utf8))).base64EncodedString()
            for secret in [wrong, marker, plainResponse, Self.password] {
                #expect(!error.description.contains(secret))
                #expect(!logs.text.contains(secret))
                #expect(!events.all.description.contains(secret))
            }
            #expect(events.all.map(\.action) == ["delivery.failed"])
            #expect(events.all.first?.error == error)
            #expect(logs.text.contains("delivery.misconfigured"))
            #expect(try server.received().isEmpty)
        }
    }

    @Test(.requiresPython) func refusesToContinueWhenTheServerDoesNotOfferSTARTTLS() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        try await SMTPTestServer.with(["--auth", Self.user, Self.password, "--auth-plaintext"], in: directory) { server in
            let events = EventRecorder()
            let sender = SMTPSender(
                configuration: Self.configuration(
                    server.port, .startTLS, ca: certificates.caPEM, username: Self.user, password: Self.password),
                onEvent: events.handler)
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "x", body: "x"))
            }
            #expect(error.code == .misconfigured)
            #expect(error.message.contains("STARTTLS"))
            #expect(events.all.map(\.action) == ["delivery.failed"])
            #expect(try server.received().isEmpty)
        }
    }

    enum TrustProblem: String, CaseIterable, Sendable {
        case noExtraCA
        case anotherCA
        case certificateForAnotherName
        /// A certificate for `localhost` only, while the sender connects to 127.0.0.1: checked against the
        /// address, it does not match.
        case certificateOnlyForLocalhostReachedByAddress
    }

    @Test(.requiresPython, arguments: TrustProblem.allCases)
    func anUntrustedCertificateStopsDelivery(_ problem: TrustProblem) async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let names: [String] =
            switch problem {
            case .certificateForAnotherName: ["mail.example.com"]
            case .certificateOnlyForLocalhostReachedByAddress: ["localhost"]
            default: []
            }
        let certificates = try await TestCertificates.make(in: directory, names: names)
        let ca: String? =
            switch problem {
            case .noExtraCA: nil
            case .anotherCA: try await TestCertificates.make(in: directory).caPEM
            default: certificates.caPEM
            }
        try await SMTPTestServer.with(["--starttls", certificates.certificatePath, certificates.keyPath], in: directory) { server in
            let sender = SMTPSender(configuration: Self.configuration(server.port, .startTLS, ca: ca))
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "x", body: "x"))
            }
            #expect(error.code == .misconfigured, "\(error)")
            #expect(try server.received().isEmpty)
        }
    }

    @Test(.requiresPython) func aRejectedRecipientIsRejected() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await SMTPTestServer.with(["--reject-rcpt", "nobody@example.org"], in: directory) { server in
            let events = EventRecorder()
            let sender = SMTPSender(configuration: Self.configuration(server.port, .none), onEvent: events.handler)
            let marker = "CODE-\(UUID().uuidString)"
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(EmailMessage(from: "warden@example.com", to: "nobody@example.org", subject: marker, body: marker))
            }
            #expect(error.code == .rejected)
            #expect(error.message.contains("550 5.1.1"))
            #expect(!error.description.contains(marker))
            #expect(events.all.first?.error?.code == .rejected)
            #expect(try server.received().isEmpty)
            // The same sender still delivers to a recipient the server accepts.
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "ok", body: "ok"))
            #expect(try server.received().count == 1)
        }
    }

    @Test(.requiresPython) func aServerThatIsDownIsUnavailable() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let port = try await SMTPTestServer.with([], in: directory) { $0.port }  // started, then stopped
        let events = EventRecorder()
        let sender = SMTPSender(configuration: Self.configuration(port, .none), onEvent: events.handler)
        let error = try await #require(throws: DeliveryError.self) {
            try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "x", body: "x"))
        }
        #expect(error.code == .unavailable)
        #expect(events.all.map(\.action) == ["delivery.failed"])
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let listener = try SilentListener()
        var configuration = Self.configuration(listener.port, .none)
        configuration.commandTimeout = .seconds(1)
        let error = try await #require(throws: DeliveryError.self) {
            try await SMTPSender(configuration: configuration).send(
                EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "x", body: "x"))
        }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("did not answer greeting within 1 s"))
    }

    static let injections: [EmailMessage] = [
        EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Hi\r\nBcc: eve@evil.example", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Hi\nBcc: eve@evil.example", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Hi\rBcc: eve@evil.example", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@example.org", subject: "Hi\u{2028}Bcc: eve@evil.example", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@example.org\r\nRCPT TO:<eve@evil.example>", subject: "Hi", body: "x"),
        EmailMessage(from: "warden@example.com>\r\nRCPT TO:<eve@evil.example", to: "ada@example.org", subject: "Hi", body: "x"),
        EmailMessage(from: "warden@example.com", to: "Ada <ada@example.org>", subject: "Hi", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@example.org, eve@evil.example", subject: "Hi", body: "x"),
        EmailMessage(from: "warden@example.com", to: "ada@exämple.org", subject: "Hi", body: "x"),
    ]

    @Test(arguments: injections)
    func headerInjectionIsRefusedBeforeConnecting(_ message: EmailMessage) async throws {
        // A listener that never answers: had the sender connected, it would time out as `.unavailable`.
        let listener = try SilentListener()
        let events = EventRecorder()
        let sender = SMTPSender(configuration: Self.configuration(listener.port, .none), onEvent: events.handler)
        let error = try await #require(throws: DeliveryError.self) { try await sender.send(message) }
        #expect(error.code == .rejected)
        #expect(events.all.map(\.action) == ["delivery.failed"])
    }

    @Test(.requiresPython) func twentyConcurrentSendsArriveOnceEach() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await SMTPTestServer.with([], in: directory) { server in
            let sender = SMTPSender(configuration: Self.configuration(server.port, .none))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await sender.send(EmailMessage(from: "warden@example.com", to: "user\(index)@example.org", subject: "n\(index)", body: "body \(index)"))
                    }
                }
                try await group.waitForAll()
            }
            let received = try server.received()
            #expect(received.count == 20)
            #expect(Set(received.flatMap(\.rcpt_tos)) == Set((0..<20).map { "user\($0)@example.org" }))
            #expect(Set(received.compactMap { $0.headers["Message-ID"] }).count == 20)
            #expect(received.allSatisfy { $0.text == "body \($0.headers["Subject"]!.dropFirst())\n" })
        }
    }
}
