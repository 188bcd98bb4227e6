public import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Delivers email over SMTP with SwiftNIO: STARTTLS or implicit TLS, AUTH PLAIN or LOGIN, one
/// connection per message.
///
/// ```swift
/// let sender = SMTPSender(
///     configuration: SMTPConfiguration(host: "smtp.example.com", username: "warden", password: password),
///     onEvent: { event in await audit.record(event) })
/// try await sender.send(EmailMessage(from: "warden@example.com", to: "ada@example.com",
///                                    subject: "Your sign-in code", body: "Your code is 123456."))
/// ```
///
/// Each message gets `Date`, `Message-ID`, `MIME-Version` and a text/plain UTF-8 body: sent as 8bit
/// when the server offers 8BITMIME, as quoted-printable otherwise (7bit when it is plain ASCII). A
/// non-ASCII subject becomes RFC 2047 encoded words.
///
/// - Important: The message counts as sent only once the server has answered `250` to its content.
///   Every failure throws a ``DeliveryError`` whose message names the step and the reply code, never
///   the content, the credentials or the server's reply text, and is reported to `onEvent` and logged
///   (as that same safe message). Nothing is ever logged of the body, the subject or the password.
public struct SMTPSender: EmailSender {
    public let configuration: SMTPConfiguration
    private let tlsContext: Result<NIOSSLContext?, DeliveryError>
    private let reporter: DeliveryReporter
    private let now: @Sendable () -> Date

    /// Prepares a sender; nothing connects until ``send(_:)``.
    ///
    /// A configuration that cannot work (a non-loopback host with `.none`, unreadable PEM) is not an
    /// error here: every ``send(_:)`` then throws ``DeliveryError/Code/misconfigured``.
    ///
    /// - Parameters:
    ///   - onEvent: Receives every attempt's outcome before ``send(_:)`` returns or throws.
    ///   - logger: Gets one line per attempt, without content or credentials.
    ///   - now: The clock for the `Date` header.
    public init(
        configuration: SMTPConfiguration, onEvent: DeliveryEventHandler? = nil,
        logger: Logger = Logger(label: "warden.delivery.smtp"), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.now = now
        self.reporter = DeliveryReporter(channel: .email, transport: "smtp", logger: logger, onEvent: onEvent, now: now)
        self.tlsContext = Self.makeTLSContext(configuration)
    }

    /// Delivers `message`: validates it, connects, and returns once the server has accepted it.
    ///
    /// - Throws: ``DeliveryError``: `.rejected` for an invalid message (checked before connecting) or a
    ///   permanent refusal, `.unavailable` when the server cannot be reached, times out or defers,
    ///   `.misconfigured` when TLS or authentication cannot be done as configured.
    public func send(_ message: EmailMessage) async throws(DeliveryError) {
        try await reporter.report { () async throws(DeliveryError) in
            try configuration.validate()
            try message.validate()
            let tlsContext = try self.tlsContext.get()
            let content = MIMEContent(
                message, date: now(), messageID: "<\(UUID().uuidString.lowercased())@\(message.senderDomain)>")
            try await deliver(message, content: content, tlsContext: tlsContext)
        }
    }

    private func deliver(_ message: EmailMessage, content: MIMEContent, tlsContext: NIOSSLContext?) async throws(DeliveryError) {
        let configuration = configuration
        let machine = SMTPClientStateMachine(
            settings: .init(
                security: configuration.security, heloName: configuration.heloName, username: configuration.username,
                password: configuration.password, hostIsLoopback: HostAddress.isLoopback(configuration.host),
                serverName: configuration.serverName),
            envelope: .init(from: message.from, to: message.to, hasEightBitContent: content.eightBit != nil))
        let logger = reporter.logger
        let host = HostAddress.unbracketed(configuration.host)
        // An IP address cannot go into SNI; NIOSSL then checks the certificate against the peer's address.
        let serverHostname = HostAddress.isIPAddress(host) ? nil : host
        let makeTLSHandler = { @Sendable () throws -> NIOSSLClientHandler in
            guard let tlsContext else { throw DeliveryError(.misconfigured, "no TLS context") }
            return try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
        }

        let connection: (channel: any Channel, result: EventLoopFuture<Void>)
        do {
            connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPClientHandler(
                            machine: machine, content: content, serverName: configuration.serverName,
                            commandTimeout: TimeAmount(configuration.commandTimeout), logger: logger,
                            eventLoop: channel.eventLoop, makeTLSHandler: makeTLSHandler)
                        if configuration.security == .implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(makeTLSHandler())
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (channel, handler.result)
                    }
                }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw DeliveryError(.unavailable, "cannot connect to SMTP server \(configuration.serverName)")
        }

        do {
            try await withTaskCancellationHandler {
                try await connection.result.get()
            } onCancel: {
                connection.channel.close(promise: nil)
            }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw SMTPClientHandler.deliveryError(for: error, serverName: configuration.serverName, step: "delivery")
        }
    }

    /// The client TLS context: system roots plus the configured extra CAs, full verification, TLS 1.2
    /// or later. `nil` for `.none`.
    private static func makeTLSContext(_ configuration: SMTPConfiguration) -> Result<NIOSSLContext?, DeliveryError> {
        guard configuration.security != .none else { return .success(nil) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        do {
            var extra: [NIOSSLCertificate] = []
            for pem in configuration.additionalTrustedCertificatesPEM {
                let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
                guard !certificates.isEmpty else {
                    return .failure(DeliveryError(.misconfigured, "an additional trusted certificate holds no PEM certificate"))
                }
                extra += certificates
            }
            if !extra.isEmpty { tls.additionalTrustRoots = [.certificates(extra)] }
            return .success(try NIOSSLContext(configuration: tls))
        } catch {
            return .failure(DeliveryError(.misconfigured, "cannot set up TLS for SMTP (unreadable trusted certificate or TLS settings)"))
        }
    }
}
