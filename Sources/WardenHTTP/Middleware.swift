import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import WardenAuth
import WardenCore

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xRequestID = HTTPField.Name("X-Request-ID")!
    static let traceparent = HTTPField.Name("traceparent")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let contentSecurityPolicyHeader = HTTPField.Name("Content-Security-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
    static let strictTransportSecurity = HTTPField.Name("Strict-Transport-Security")!
    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let allowCredentials = HTTPField.Name("Access-Control-Allow-Credentials")!
    static let allowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let allowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let host = HTTPField.Name("Host")!
    static let maxAge = HTTPField.Name("Access-Control-Max-Age")!
}

/// The outermost layer of every request: client address and request id, CORS, per-address rate limits,
/// error rendering (every error becomes a JSON body that leaks nothing), security headers on every
/// response, metrics and one log line.
struct WardenMiddleware: RouterMiddleware {
    typealias Context = WardenContext

    let configuration: ServerConfiguration
    let limiter: any RateLimitStore
    let addressLimiter: BatchedRateLimiter
    let metrics: Metrics
    let clock: any WallClock
    let sampled = Sampled()

    /// Route patterns with the stricter per-address limit. Limits are keyed by the route the router
    /// matched, never by the raw path text (which `//auth/login` or `/auth/login/` would vary).
    static let authRoutes: Set<String> = [
        "/auth/login", "/auth/register", "/auth/refresh", "/auth/mfa/verify", "/auth/mfa/send", "/auth/password",
        "/auth/passkeys/login", "/auth/mfa/passkey",
        // The console's forms that check credentials or codes count as the API's do.
        "/console/sign-in", "/console/sign-in/factor", "/console/sign-in/send", "/console/sign-in/passkey", "/console/sign-up", "/console/account/password",
    ]
    let routes: RouteTable
    /// Made once: a field built from a name and a value checks the value each time.
    let securityHeaders: [HTTPField]

    init(configuration: ServerConfiguration, limiter: any RateLimitStore, metrics: Metrics, clock: any WallClock, routes: RouteTable) {
        self.configuration = configuration
        self.limiter = limiter
        addressLimiter = BatchedRateLimiter(limit: configuration.addressLimit, store: limiter)
        self.metrics = metrics
        self.clock = clock
        self.routes = routes
        securityHeaders = SecurityHeaders.fields(tls: configuration.tls, strictTransportSecurity: configuration.strictTransportSecurity).map {
            HTTPField(name: $0.0, value: $0.1)
        }
    }

    func handle(_ request: Request, context: WardenContext, next: (Request, WardenContext) async throws -> Response) async throws -> Response {
        // Tracing off (no `WARDEN_OTEL_ENDPOINT`): no span, no header extraction, no task-local binding.
        guard WardenTracing.isEnabled else { return try await respond(request, context: context, next: next) }
        return try await traced(request, context: context, next: next)
    }

    /// The request's whole handling, from its ids to its log line.
    func respond(_ request: Request, context: WardenContext, next: (Request, WardenContext) async throws -> Response) async throws -> Response {
        var context = context
        let started = ContinuousClock.now
        // The caller's trace id (a valid `traceparent` only) joins the request id on every line logged
        // through the request's logger, and through any logger while the request's task runs.
        if let traceID = TraceParent.traceID(request.headers[values: .traceparent]) {
            context.traceID = traceID
            context.logger[metadataKey: "trace_id"] = .string(traceID)
        }
        let logMetadata = RequestLogMetadata.metadata(requestID: context.requestID, traceID: context.traceID)
        if let peer = context.peerAddress, ServerConfiguration.contains(configuration.trustedProxies, peer) {
            context.clientAddress = clientAddress(forwarded: request.headers[values: .xForwardedFor], peer: peer)
        }
        let origin = request.headers[.origin].flatMap { configuration.corsOrigins.contains($0) ? $0 : nil }
        var response: Response
        var shed = false
        var failureCode: String?
        do {
            if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
                response = Response(status: .noContent)
                if origin != nil {
                    response.headers[.allowMethods] = "GET, POST, DELETE"
                    response.headers[.allowHeaders] = "Authorization, Content-Type"
                    response.headers[.maxAge] = "600"
                }
            } else {
                // Every request counts towards its address's limit; malformed ones and aliases are then
                // refused before they can count as (or reach) a route.
                try await limit(request, context, authRoute: false)
                try refuseMalformed(request, context)
                var request = request
                if isLimitedAuthRoute(request, context) {
                    // Charged once the body is complete: a request whose body never arrives (held open
                    // until the body deadline closes it) spends nothing of its address's budget.
                    try await collectBody(&request)
                    try await limit(request, context, authRoute: true)
                }
                response = try await RequestLogMetadata.$current.withValue(logMetadata) { [context] in
                    try await next(request, context)
                }
            }
        } catch {
            let failure = APIError.from(error)
            shed = failure.code == APIError.busy.code
            failureCode = failure.code
            if failure.status.code >= 500, !shed {
                context.logger.error("request failed", metadata: ["error": .string(String(describing: type(of: error)))])
            }
            if request.uri.path.hasPrefix("/console") {
                // The console's own routes render their errors; this is what the layers before them refuse.
                response = ConsoleResponse.page(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Warden</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body><main class=\"narrow\"><div class=\"card\"><h1>\(failure.status.code == 429 ? "Slow down" : "That did not work")</h1><p>\(WardenAPI.sentence(failure.message).html)</p><p><a href=\"/console\">Back to the console</a></p></div></main></body></html>",
                    status: failure.status)
            } else {
                response = JSONResponse.make(failure.status, failure.body(requestID: context.requestID, compatibility: configuration.apiCompatibility))
            }
            for field in failure.headers { response.headers.append(field) }
            if let retry = failure.retryAfter { response.headers[.retryAfter] = String(Int(max(1, retry.rounded(.up)))) }
        }
        if let origin {
            response.headers[.allowOrigin] = origin
            response.headers[.allowCredentials] = "true"
            response.headers[.vary] = "Origin"
        }
        secure(&response, path: request.uri.path)
        response.headers[.xRequestID] = context.requestID

        // By the pattern the router matched, never the raw path (which would make a series per account id).
        let route = context.endpointPath ?? "unmatched"
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        if let failureCode { metrics.recordFailure(route: route, code: failureCode) }
        if shed { metrics.increment("warden_password_hashing_shed_total", ["route": route]) }
        // Refused and failed requests are always logged; successful ones one in `accessLogSampling`.
        if context.logger.logLevel <= .info, response.status.code >= 400 || sampled.next(every: configuration.accessLogSampling) {
            context.logger.info(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue), "route": .string(route),
                    "status": .stringConvertible(response.status.code), "client": .string(context.clientAddress),
                    "ms": .stringConvertible(Int(seconds * 1000)),
                ])
        }
        return response
    }

    /// The address of the client: walking `X-Forwarded-For` from the right, the first address that is not
    /// a trusted proxy.
    private func clientAddress(forwarded: [String], peer: String) -> String {
        let hops = forwarded.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !ServerConfiguration.contains(configuration.trustedProxies, hop) {
            return hop.count <= 64 ? hop : peer
        }
        return hops.first ?? peer
    }

    /// Whether the stricter per-address limit of the authentication routes applies.
    private func isLimitedAuthRoute(_ request: Request, _ context: WardenContext) -> Bool {
        request.method == .post && context.endpointPath.map(Self.authRoutes.contains) == true
    }

    /// Reads the whole body (up to the size limit: 413 past it, as ``JSONBody`` answers) so that the
    /// route reads it from memory.
    private func collectBody(_ request: inout Request) async throws {
        let limit = configuration.maxBodyBytes
        let tooLarge = APIError(.contentTooLarge, "too_large", "the request body is larger than \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch {
            throw tooLarge
        }
    }

    /// The per-address limit (every route but `/health`), or with `authRoute` the stricter one of the
    /// authentication routes (the caller checks that it applies).
    private func limit(_ request: Request, _ context: WardenContext, authRoute: Bool) async throws {
        let route = context.endpointPath
        guard route != "/health" else { return }
        let now = clock.now()
        let source = SourceKey.of(context.clientAddress)
        do {
            if !authRoute, let retry = try await addressLimiter.exceeded(key: "http.address:" + source, now: now) {
                throw APIError(.tooManyRequests, "rate_limited", "too many requests; slow down", retryAfter: retry)
            }
            if authRoute, let retry = try await configuration.authAddressLimit.exceeded(key: "http.auth:" + source, in: limiter, now: now) {
                throw APIError(.tooManyRequests, "rate_limited", "too many attempts; slow down", retryAfter: retry)
            }
        } catch let error as APIError {
            throw error
        } catch {
            // The shared counters are unreachable: refuse rather than run unlimited.
            throw APIError.unavailable
        }
    }

    /// Requests the router would misread or a peer would read differently: a path with an empty segment
    /// or a trailing slash (an alias of a route: 404), a missing or repeated `Host` (RFC 9112 §3.2: 400),
    /// and a method the path does not take (405 with `Allow`).
    private func refuseMalformed(_ request: Request, _ context: WardenContext) throws {
        let path = request.uri.path
        if path.contains("//") || (path.utf8.count > 1 && path.hasSuffix("/") && path != "/console/") { throw APIError.notFound }
        guard request.head.authority != nil, request.headers[values: .host].isEmpty else {
            throw APIError(.badRequest, "invalid_request", "exactly one Host header is required")
        }
        if context.endpointPath == nil, let allowed = routes.methods(for: path), !allowed.isEmpty {
            var error = APIError(.methodNotAllowed, "method_not_allowed", "this resource does not take that method")
            error.headers[.allow] = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw error
        }
    }

    private func secure(_ response: inout Response, path: String) {
        // Appended where the route set none (every API route): replacing searches and rebuilds the fields.
        for field in securityHeaders {
            if response.headers[field.name] == nil {
                response.headers.append(field)
            } else {
                response.headers[field.name] = field.value
            }
        }
        if path.hasPrefix("/console") {
            // The console's pages load their own stylesheet, script and images, and post forms to themselves.
            response.headers[.contentSecurityPolicyHeader] = ConsoleResponse.contentSecurityPolicy
            // Under `no-referrer` a browser sends `Origin: null` with a form; `same-origin` keeps the
            // origin on the console's own forms (the CSRF check reads it) and still tells other sites nothing.
            response.headers[.referrerPolicy] = "same-origin"
            // Passkeys need the Web Authentication API; nothing else is granted.
            response.headers[.permissionsPolicy] =
                "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), publickey-credentials-get=(self), publickey-credentials-create=(self)"
        }
        let cacheable = path == "/health" || path == "/.well-known/jwks.json" || path == "/openapi.json" || path.hasPrefix("/console/assets/")
        response.headers[.cacheControl] = cacheable ? "no-cache" : "no-store"
    }
}

extension WardenContext {
    var endpointPath: String? { coreContext.endpointPath.value }
}

/// Lets one call in `every` through (sampling of access-log lines).
final class Sampled: Sendable {
    private let count = Atomic<Int>(0)

    func next(every: Int) -> Bool {
        guard every > 1 else { return true }
        return count.wrappingAdd(1, ordering: .relaxed).oldValue % every == 0
    }
}
