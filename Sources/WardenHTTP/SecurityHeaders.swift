import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// The security headers every response carries, and the channel handler that adds them to the responses
/// the router never sees (the HTTP parser's own 400 for a malformed or oversized request head).
enum SecurityHeaders {
    /// The headers for responses; `Strict-Transport-Security` only over TLS, with the configured policy
    /// (``ServerConfiguration/strictTransportSecurity``; `nil` sends none).
    static func fields(tls: Bool, strictTransportSecurity: String?) -> [(HTTPField.Name, String)] {
        var fields: [(HTTPField.Name, String)] = [
            (.xContentTypeOptions, "nosniff"),
            (.xFrameOptions, "DENY"),
            (.referrerPolicy, "no-referrer"),
            (.contentSecurityPolicyHeader, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
            (.permissionsPolicy, "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"),
            (.crossOriginOpenerPolicy, "same-origin"),
            (.crossOriginResourcePolicy, "same-origin"),
        ]
        if tls, let strictTransportSecurity { fields.append((.strictTransportSecurity, strictTransportSecurity)) }
        return fields
    }
}

/// Adds the security headers (and `Cache-Control: no-store`) to any response head written without
/// them: the middleware sets them on every routed response, and this catches the rest.
final class SecurityHeadersGuard: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let fields: [(HTTPField.Name, String)]

    init(tls: Bool, strictTransportSecurity: String?) {
        fields = SecurityHeaders.fields(tls: tls, strictTransportSecurity: strictTransportSecurity)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.headerFields[.xContentTypeOptions] == nil else {
            context.write(data, promise: promise)
            return
        }
        for (name, value) in fields { head.headerFields[name] = value }
        head.headerFields[.cacheControl] = "no-store"
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
