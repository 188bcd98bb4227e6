import Foundation
import Testing

@testable import WardenDelivery

struct ConfigurationTests {
    @Test(arguments: [
        ("localhost", true), ("LOCALHOST", true), ("127.0.0.1", true), ("127.8.9.10", true), ("::1", true),
        ("[::1]", true), ("0:0:0:0:0:0:0:1", true), ("128.0.0.1", false), ("10.0.0.1", false), ("::2", false),
        ("localhost.example.com", false), ("127.0.0.1.nip.io", false), ("", false), ("::ffff:127.0.0.1", false),
    ])
    func loopbackHosts(_ host: String, _ expected: Bool) {
        #expect(HostAddress.isLoopback(host) == expected)
    }

    @Test func defaultPortsFollowTheSecurity() {
        #expect(SMTPConfiguration(host: "smtp.example.com").port == 587)
        #expect(SMTPConfiguration(host: "smtp.example.com").security == .startTLS)
        #expect(SMTPConfiguration(host: "smtp.example.com", security: .implicitTLS).port == 465)
        #expect(SMTPConfiguration(host: "localhost", security: .none).port == 25)
    }

    static let invalid: [(String, SMTPConfiguration)] = [
        ("plaintext to a remote host", SMTPConfiguration(host: "smtp.example.com", security: .none)),
        ("plaintext to a private address", SMTPConfiguration(host: "10.1.2.3", security: .none)),
        ("username without password", SMTPConfiguration(host: "smtp.example.com", username: "u")),
        ("password without username", SMTPConfiguration(host: "smtp.example.com", password: "p")),
        ("NUL in password", SMTPConfiguration(host: "smtp.example.com", username: "u", password: "p\u{0}q")),
        ("port 0", SMTPConfiguration(host: "smtp.example.com", port: 0)),
        ("empty host", SMTPConfiguration(host: "")),
        ("host with a path", SMTPConfiguration(host: "smtp.example.com/x")),
        ("HELO with a space", SMTPConfiguration(host: "smtp.example.com", heloName: "a b")),
        ("HELO with CRLF", SMTPConfiguration(host: "smtp.example.com", heloName: "a\r\nMAIL FROM:<x@y>")),
        ("zero timeout", SMTPConfiguration(host: "smtp.example.com", commandTimeout: .zero)),
    ]

    @Test(arguments: invalid)
    func invalidSMTPConfigurationsAreMisconfigured(_ name: String, _ configuration: SMTPConfiguration) {
        let error = #expect(throws: DeliveryError.self, "\(name)") { try configuration.validate() }
        #expect(error?.code == .misconfigured)
    }

    @Test func validSMTPConfigurations() throws {
        try SMTPConfiguration(host: "smtp.example.com").validate()
        try SMTPConfiguration(host: "127.0.0.1", security: .none, username: "u", password: "p").validate()
        try SMTPConfiguration(host: "::1", security: .none).validate()
    }

    @Test func aRemotePlaintextHostIsRefusedBySendWithoutConnecting() async {
        // Validation comes first: the sender never resolves or connects to the host.
        let sender = SMTPSender(configuration: SMTPConfiguration(host: "smtp.invalid", security: .none))
        let error = await #expect(throws: DeliveryError.self) {
            try await sender.send(EmailMessage(from: "a@example.com", to: "b@example.org", subject: "s", body: "b"))
        }
        #expect(error?.code == .misconfigured)
    }

    @Test func unreadableTrustedCertificatesAreMisconfigured() async {
        let sender = SMTPSender(
            configuration: SMTPConfiguration(
                host: "127.0.0.1", port: 9, additionalTrustedCertificatesPEM: ["-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"]))
        let error = await #expect(throws: DeliveryError.self) {
            try await sender.send(EmailMessage(from: "a@example.com", to: "b@example.org", subject: "s", body: "b"))
        }
        #expect(error?.code == .misconfigured)
        let empty = SMTPSender(configuration: SMTPConfiguration(host: "127.0.0.1", port: 9, additionalTrustedCertificatesPEM: ["nothing"]))
        let second = await #expect(throws: DeliveryError.self) {
            try await empty.send(EmailMessage(from: "a@example.com", to: "b@example.org", subject: "s", body: "b"))
        }
        #expect(second?.code == .misconfigured)
    }

    @Test func thePasswordIsNeverPrinted() {
        let configuration = SMTPConfiguration(host: "smtp.example.com", username: "warden", password: "hunter2-secret")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains("hunter2-secret"))
            #expect(text.contains("smtp.example.com"))
        }
    }

    @Test func errorsAndEventsDescribeThemselves() {
        let error = DeliveryError(.rejected, "SMTP server x rejected the recipient (550 5.1.1)")
        #expect(error.description == "delivery.rejected: SMTP server x rejected the recipient (550 5.1.1)")
        let event = DeliveryEvent(time: Date(timeIntervalSince1970: 0), channel: .email, transport: "smtp", error: error)
        #expect(event.action == "delivery.failed")
        #expect(
            event.details == [
                "channel": "email", "transport": "smtp", "code": "delivery.rejected",
                "reason": "SMTP server x rejected the recipient (550 5.1.1)",
            ])
    }
}
