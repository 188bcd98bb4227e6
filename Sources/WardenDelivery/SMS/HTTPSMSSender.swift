public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1

/// Sends text messages through a Twilio-style REST API with AsyncHTTPClient.
///
/// One request per message: `POST {baseURL}/2010-04-01/Accounts/{accountSID}/Messages.json` with the
/// form body `To=…&From=…&Body=…` (`application/x-www-form-urlencoded`) and HTTP basic credentials
/// `accountSID:authToken`.
///
/// ```swift
/// let sms = HTTPSMSSender(configuration: HTTPSMSConfiguration(
///     accountSID: sid, authToken: token, from: "+447700900000"))
/// try await sms.send(SMSMessage(to: "+447700900123", body: "Your code is 123456."))
/// ```
///
/// Answers: 2xx means sent; 401 and 403 are ``DeliveryError/Code/misconfigured`` (the credentials),
/// 429 is ``DeliveryError/Code/unavailable`` (rate limited), any other 4xx is
/// ``DeliveryError/Code/rejected``; 5xx, timeouts and connection failures are `.unavailable`; a
/// redirect is not followed and is `.misconfigured`.
///
/// - Important: Providers echo the message in their answers, so an answer's body is never logged or put
///   in an error; only a numeric provider error code is kept. The token appears nowhere but in the
///   `Authorization` header.
public struct HTTPSMSSender: SMSSender {
    public let configuration: HTTPSMSConfiguration
    private let client: HTTPClient
    private let reporter: DeliveryReporter

    /// - Parameters:
    ///   - httpClient: The client to send with; by default one shared by all SMS senders that never
    ///     follows redirects. A client passed here is not shut down by the sender.
    ///   - onEvent: Receives every attempt's outcome before ``send(_:)`` returns or throws.
    public init(
        configuration: HTTPSMSConfiguration, httpClient: HTTPClient? = nil, onEvent: DeliveryEventHandler? = nil,
        logger: Logger = Logger(label: "warden.delivery.sms"), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.client = httpClient ?? smsHTTPClient
        self.reporter = DeliveryReporter(channel: .sms, transport: "http-sms", logger: logger, onEvent: onEvent, now: now)
    }

    /// Sends `message` and returns once the provider has accepted it.
    ///
    /// - Throws: ``DeliveryError`` as the type's documentation describes; `.rejected` for a number that
    ///   is not E.164 or an empty text, checked before anything is sent.
    public func send(_ message: SMSMessage) async throws(DeliveryError) {
        try await reporter.report { () async throws(DeliveryError) in
            try configuration.validate()
            try message.validate()
            try await post(message)
        }
    }

    private func post(_ message: SMSMessage) async throws(DeliveryError) {
        let configuration = configuration
        var request = HTTPClientRequest(url: configuration.messagesURL)
        request.method = .POST
        let credentials = Data("\(configuration.accountSID):\(configuration.authToken)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Warden")
        let form = FormEncoding.encode([("To", message.to), ("From", configuration.from), ("Body", message.body)])
        request.body = .bytes(ByteBuffer(string: form))

        let host = configuration.hostName
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(configuration.timeout))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            // AsyncHTTPClient retries failed connection attempts until the deadline, so this is also
            // what a provider that cannot be reached at all ends with.
            throw DeliveryError(.unavailable, "SMS provider \(host) could not be reached or did not answer within \(configuration.timeout)")
        } catch is CancellationError {
            throw DeliveryError(.unavailable, "sending to SMS provider \(host) was cancelled")
        } catch {
            throw DeliveryError(.unavailable, "cannot reach SMS provider \(host)")
        }
        let status = response.status.code
        // Read (a bounded amount of) the answer so the connection can be reused; only a numeric error
        // code is ever kept from it.
        let answer = try? await response.body.collect(upTo: 64 * 1024)
        if (200..<300).contains(status) { return }
        let providerCode = answer.flatMap(Self.providerErrorCode).map { ", provider code \($0)" } ?? ""
        let what = "SMS provider \(host) answered HTTP \(status)\(providerCode)"
        switch status {
        case 401, 403:
            throw DeliveryError(.misconfigured, "\(what): the account SID or auth token was refused")
        case 429:
            throw DeliveryError(.unavailable, "\(what): rate limited")
        case 400..<500:
            throw DeliveryError(.rejected, "\(what): the message was refused")
        case 300..<400:
            throw DeliveryError(.misconfigured, "\(what): a redirect, which is not followed (check the base URL)")
        default:
            throw DeliveryError(.unavailable, what)
        }
    }

    /// The integer `code` of a JSON error answer (`{"code": 21211, …}`), if there is one.
    static func providerErrorCode(_ body: ByteBuffer) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let code = object["code"] as? Int, (0...999_999).contains(code)
        else { return nil }
        return code
    }
}

/// The client every ``HTTPSMSSender`` uses unless given one: redirects off (a POST with credentials has
/// no business going elsewhere), 10 s to connect. It lives as long as the process, so it is never shut
/// down.
private let smsHTTPClient = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: HTTPClient.Configuration(
        redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled))
