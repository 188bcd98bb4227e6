import Foundation
import Testing

@testable import WardenDelivery

/// HTTPSMSSender against a local capture server standing in for the provider.
@Suite(.serialized)
struct HTTPSMSSenderTests {
    static let sid = "AC0123456789abcdef0123456789abcdef"
    static let token = "tok-\(UUID().uuidString)"

    static func configuration(_ baseURL: String, timeout: Duration = .seconds(10)) -> HTTPSMSConfiguration {
        HTTPSMSConfiguration(accountSID: sid, authToken: token, from: "+15005550006", baseURL: baseURL, timeout: timeout)
    }

    @Test(.requiresPython) func postsTheFormWithBasicAuthToTheMessagesPath() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await CaptureServer.with(in: directory) { server in
            let events = EventRecorder()
            let sender = HTTPSMSSender(configuration: Self.configuration(server.baseURL + "/"), onEvent: events.handler)
            let body = "Code 123456 + a&b=c 100% ?x#y; Grüße 🔐 验证码\nline two"
            try await sender.send(SMSMessage(to: "+447700900123", body: body))

            let requests = try server.requests()
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request.method == "POST")
            #expect(request.path == "/2010-04-01/Accounts/\(Self.sid)/Messages.json")
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            let authorization = try #require(request.headers["authorization"])
            #expect(authorization.hasPrefix("Basic "))
            let credentials = String(decoding: Data(base64Encoded: String(authorization.dropFirst(6)))!, as: UTF8.self)
            #expect(credentials == "\(Self.sid):\(Self.token)")
            #expect(decodeForm(request.body) == ["To": "+447700900123", "From": "+15005550006", "Body": body])
            #expect(!request.body.contains(" "))
            #expect(events.all.map(\.action) == ["delivery.sent"])
            #expect(events.all.first?.details == ["channel": "sms", "transport": "http-sms"])
        }
    }

    @Test(
        .requiresPython,
        arguments: [
            (400, DeliveryError.Code.rejected), (404, .rejected), (401, .misconfigured), (403, .misconfigured),
            (429, .unavailable), (500, .unavailable), (503, .unavailable), (302, .misconfigured),
        ])
    func answersMapToCodes(_ status: Int, _ expected: DeliveryError.Code) async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await CaptureServer.with(status: status, in: directory) { server in
            let marker = "CODE-\(UUID().uuidString)"
            let events = EventRecorder()
            let logs = LogRecorder()
            let sender = HTTPSMSSender(configuration: Self.configuration(server.baseURL), onEvent: events.handler, logger: logs.logger())
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(SMSMessage(to: "+447700900123", body: "Your code is \(marker)"))
            }
            #expect(error.code == expected)
            #expect(error.message.contains("HTTP \(status)"))
            if status != 302 { #expect(error.message.contains("provider code 21211")) }
            // The provider echoed the body in its answer: none of it may reach the error or the logs.
            for secret in [marker, Self.token] {
                #expect(!error.description.contains(secret))
                #expect(!logs.text.contains(secret))
            }
            #expect(events.all.map(\.action) == ["delivery.failed"])
            #expect(logs.text.contains("message not delivered"))
            // Exactly one request: a redirect is not followed, an error is not retried.
            #expect(try server.requests().count == 1)
        }
    }

    @Test(.requiresPython) func noServerIsUnavailable() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let baseURL = try await CaptureServer.with(in: directory) { $0.baseURL }  // started, then stopped
        let error = try await #require(throws: DeliveryError.self) {
            // AsyncHTTPClient retries refused connections until the request's deadline: keep it short.
            try await HTTPSMSSender(configuration: Self.configuration(baseURL, timeout: .seconds(2)))
                .send(SMSMessage(to: "+447700900123", body: "x"))
        }
        #expect(error.code == .unavailable)
    }

    @Test(.requiresPython) func aProviderThatNeverAnswersTimesOut() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try await CaptureServer.with(hang: true, in: directory) { server in
            let sender = HTTPSMSSender(configuration: Self.configuration(server.baseURL, timeout: .seconds(1)))
            let error = try await #require(throws: DeliveryError.self) {
                try await sender.send(SMSMessage(to: "+447700900123", body: "x"))
            }
            #expect(error.code == .unavailable)
            #expect(error.message.contains("did not answer"))
        }
    }

    @Test(arguments: ["447700900123", "+0447700900123", "+44 7700 900123", "+4477009001231234", "+1", "+44770090012a", "+447700900123\r\nX: y", ""])
    func numbersThatAreNotE164AreRejectedBeforeSending(_ number: String) async throws {
        // Port 9 on loopback: had the sender tried to connect, it would fail as `.unavailable`.
        let sender = HTTPSMSSender(configuration: Self.configuration("http://127.0.0.1:9"))
        let error = try await #require(throws: DeliveryError.self) { try await sender.send(SMSMessage(to: number, body: "x")) }
        #expect(error.code == .rejected)
    }

    @Test(arguments: [
        "http://api.example.com", "ftp://127.0.0.1", "https://user:pw@api.example.com", "https://api.example.com?x=1",
        "not a url", "https://", "http://10.0.0.1",
    ])
    func baseURLsThatAreNotHTTPSOrLoopbackAreMisconfigured(_ url: String) {
        let error = #expect(throws: DeliveryError.self) { try Self.configuration(url).validate() }
        #expect(error?.code == .misconfigured)
    }

    @Test func configurationChecks() throws {
        try Self.configuration("https://api.twilio.com").validate()
        try Self.configuration("http://localhost:8080").validate()
        try Self.configuration("http://[::1]:8080").validate()
        var bad = Self.configuration("https://api.twilio.com")
        bad.accountSID = "AC123/../../Other"
        #expect(throws: DeliveryError(.misconfigured, "SMS account SID must be 1 to 64 ASCII letters and digits")) { try bad.validate() }
        bad = Self.configuration("https://api.twilio.com")
        bad.authToken = ""
        #expect(throws: DeliveryError.self) { try bad.validate() }
        #expect(Self.configuration("https://api.twilio.com").messagesURL == "https://api.twilio.com/2010-04-01/Accounts/\(Self.sid)/Messages.json")
        let configuration = Self.configuration("https://api.twilio.com")
        for text in [
            "\(configuration)", String(reflecting: configuration),
            {
                var s = ""
                dump(configuration, to: &s)
                return s
            }(),
        ] {
            #expect(!text.contains(Self.token))
        }
    }

    @Test(arguments: [
        ("abc", "abc"), ("a b", "a+b"), ("+1", "%2B1"), ("a&b=c", "a%26b%3Dc"), ("100%", "100%25"),
        ("é", "%C3%A9"), ("*-._~", "*-._%7E"), ("\n", "%0A"),
    ])
    func formEncoding(_ input: String, _ expected: String) {
        #expect(FormEncoding.encode(input) == expected)
    }
}
