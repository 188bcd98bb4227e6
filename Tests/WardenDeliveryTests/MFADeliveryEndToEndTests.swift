import Foundation
import Testing
import WardenCore
import WardenCrypto
import WardenDelivery
import WardenMFA

/// MFA codes over real delivery: an email enrolment through aiosmtpd (STARTTLS + AUTH), an SMS enrolment
/// through the capture server, each code read from what the server received and used to confirm the
/// factor; and a login code over each.
struct MFADeliveryEndToEndTests {
    static let masterKey = try! MasterKey(bytes: [UInt8](repeating: 9, count: 32))
    static let context = AuditContext(actor: "test", sourceAddress: "192.0.2.7", requestID: "e2e")

    func service(_ messenger: DeliveryMessenger) async throws -> MFAService {
        let cipher = try await FieldCipher.load(store: MemoryKeyringStore(), masterKey: Self.masterKey)
        return try MFAService(
            store: MemoryMFAStore(), cipher: cipher, hashKey: Self.masterKey.secretHashKey, limiter: MemoryRateLimitStore(), messenger: messenger)
    }

    static func code(in text: String) throws -> String {
        let words = text.split(whereSeparator: { !$0.isNumber })
        return String(try #require(words.first { $0.count == 6 }))
    }

    @Test(.requiresPython) func emailCodesTravelOverSMTPWithSTARTTLSAndAuth() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(in: directory)
        let options = ["--starttls", certificates.certificatePath, certificates.keyPath, "--auth", "warden", "s3cret-pass"]
        try await SMTPTestServer.with(options, in: directory) { server in
            let smtp = SMTPSender(
                configuration: SMTPConfiguration(
                    host: "localhost", port: server.port, security: .startTLS, username: "warden", password: "s3cret-pass",
                    heloName: "warden.test", connectTimeout: .seconds(5), commandTimeout: .seconds(10),
                    additionalTrustedCertificatesPEM: [certificates.caPEM]))
            let mfa = try await service(DeliveryMessenger(email: smtp, sms: nil, from: "security@warden.test"))
            let account = UUID()
            let factor = try await mfa.enrollDestination(.email, destination: "ada@example.org", accountID: account, name: "work", proof: .passwordOnly, context: Self.context)
            var received = try server.received()
            try #require(received.count == 1)
            #expect(received[0].rcpt_tos == ["ada@example.org"])
            #expect(received[0].tls && received[0].auth_user == "warden")
            let code = try Self.code(in: try #require(received[0].text))
            try await mfa.confirm(accountID: account, factorID: factor, code: code, context: Self.context)
            #expect(try await mfa.methods(accountID: account) == [.email])

            // A login: challenge, code by email, completion.
            let challenge = try #require(try await mfa.beginChallenge(accountID: account, device: "laptop", context: Self.context))
            try await mfa.sendChallengeCode(token: challenge.token, device: "laptop", method: .email, context: Self.context)
            received = try server.received()
            try #require(received.count == 2)
            // The server's files are not in arrival order: pick the sign-in message by its wording.
            let login = try Self.code(in: try #require(received.compactMap(\.text).first { $0.contains("to sign in") }))
            #expect(try await mfa.completeChallenge(token: challenge.token, device: "laptop", method: .email, code: login, context: Self.context) == account)
        }
    }

    @Test(.requiresPython) func smsCodesTravelThroughTheProviderAPI() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await CaptureServer.with(in: directory) { server in
            let sms = HTTPSMSSender(
                configuration: HTTPSMSConfiguration(
                    accountSID: "AC0123456789abcdef0123456789abcdef", authToken: "token-for-tests", from: "+15005550006", baseURL: server.baseURL,
                    timeout: .seconds(10)))
            let mfa = try await service(DeliveryMessenger(email: nil, sms: sms, from: "security@warden.test"))
            let account = UUID()
            let factor = try await mfa.enrollDestination(.sms, destination: "+14155550123", accountID: account, name: "mobile", proof: .passwordOnly, context: Self.context)
            let requests = try server.requests()
            try #require(requests.count == 1)
            let form = decodeForm(requests[0].body)
            #expect(form["To"] == "+14155550123")
            try await mfa.confirm(accountID: account, factorID: factor, code: try Self.code(in: try #require(form["Body"])), context: Self.context)
            #expect(try await mfa.methods(accountID: account) == [.sms])
        }
    }

    @Test(.requiresPython) func aProviderFailureIsADeliveryErrorAndNoUsableCode() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await CaptureServer.with(status: 503, in: directory) { server in
            let sms = HTTPSMSSender(
                configuration: HTTPSMSConfiguration(
                    accountSID: "AC0123456789abcdef0123456789abcdef", authToken: "token-for-tests", from: "+15005550006", baseURL: server.baseURL,
                    timeout: .seconds(10)))
            let mfa = try await service(DeliveryMessenger(email: nil, sms: sms, from: "security@warden.test"))
            let error = try await #require(throws: MFAError.self) {
                try await mfa.enrollDestination(.sms, destination: "+14155550123", accountID: UUID(), name: "mobile", proof: .passwordOnly, context: Self.context)
            }
            #expect(error.code == .deliveryFailed)
            // The provider saw the code, but Warden will not accept it.
            let sent = try Self.code(in: decodeForm(try #require(try server.requests().first).body)["Body"] ?? "")
            #expect(!error.description.contains(sent))
        }
    }
}
