public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOCore
public import NIOSSL
public import ServiceLifecycle

/// Builds the Hummingbird application for the API: HTTP/1.1, over TLS when a context provider is given, with
/// idle, header, body and response timeouts (``HeaderTimeoutChannel``), and `services` (background work) in the same service group.
public enum WardenServer {
    public static func application(
        api: WardenAPI, tls: (@Sendable () -> NIOSSLContext)?, logger: Logger, services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let secureTransport = tls != nil
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestHeadSignal(), SecurityHeadersGuard(tls: secureTransport, strictTransportSecurity: api.configuration.strictTransportSecurity)],
            idleTimeout: TimeAmount(api.configuration.idleTimeout))
        let limits = api.configuration
        let deadlines = ConnectionDeadlines(
            header: TimeAmount(limits.headerTimeout), body: TimeAmount(limits.bodyTimeout), bodyMinimumRate: limits.bodyMinimumRate,
            bodyRateGrace: TimeAmount(limits.bodyRateGrace), response: TimeAmount(limits.responseTimeout))
        let server = HTTPServerBuilder { responder -> any ServerChildChannel in
            let http = HeaderTimeoutChannel(base: HTTP1Channel(responder: responder, configuration: configuration), deadlines: deadlines)
            // Each new connection takes the context `tls` gives then (a reloaded certificate, without a restart).
            guard let tls else { return http }
            return ReloadingTLSChannel(base: http, context: tls)
        }
        return Application(
            router: api.router(), server: server,
            configuration: .init(address: .hostname(api.configuration.host, port: api.configuration.port), serverName: nil),
            services: services, onServerRunning: onServerRunning, logger: logger)
    }

    /// ``application(api:tls:logger:services:onServerRunning:)`` with its shutdown sequence
    /// (``DrainingServer``): readiness 503 for the configured drain, then the listener closed and requests
    /// in flight given the grace period, then the background jobs stopped.
    public static func service(
        api: WardenAPI, tls: (@Sendable () -> NIOSSLContext)?, logger: Logger, services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some Service {
        DrainingServer(
            application: try application(api: api, tls: tls, logger: logger, services: services, onServerRunning: onServerRunning),
            state: api.shutdown, drain: api.configuration.shutdownDrain, grace: api.configuration.shutdownGrace, logger: logger)
    }
}
