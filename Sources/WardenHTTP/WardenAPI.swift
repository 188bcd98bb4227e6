public import Crypto
public import Foundation
import HTTPTypes
public import Hummingbird
import WardenAccess
public import WardenAudit
public import WardenAuth
public import WardenCore
public import WardenCrypto
public import WardenMFA
public import WardenSessions

/// What the API runs on: the use cases, the services they are built on, and the health probes of what
/// they depend on.
public struct WardenServices: Sendable {
    /// Every account rule (login, sessions, passwords, status, roles, MFA, field encryption, keys).
    public let security: AccountSecurity
    public var limiter: any RateLimitStore
    public var auditReader: any AuditLogReader
    /// `true` when the database answers.
    public var databaseHealthy: @Sendable () async -> Bool
    /// `nil` without Redis; else `true` when Redis answers.
    public var redisHealthy: (@Sendable () async -> Bool)?
    /// The channels a code can be sent over (a sender is configured).
    public var channels: Set<MFAState.Factor.Kind>
    public var clock: any WallClock
    /// Authenticates the web console's form (CSRF) tokens; every node must use the same key
    /// (``MasterKey/consoleKey``). Random by default, for a single process.
    public var consoleKey = SymmetricKey(size: .bits256)
    /// Verifies the whole audit chain (the console's audit page offers it); `nil` where the chain is not
    /// at hand.
    public var auditVerifier: (@Sendable () async throws -> AuditVerifier.Result)?

    public init(
        security: AccountSecurity, limiter: any RateLimitStore, auditReader: any AuditLogReader, databaseHealthy: @escaping @Sendable () async -> Bool,
        redisHealthy: (@Sendable () async -> Bool)?, channels: Set<MFAState.Factor.Kind>, clock: any WallClock = SystemWallClock()
    ) {
        self.security = security
        self.limiter = limiter
        self.auditReader = auditReader
        self.databaseHealthy = databaseHealthy
        self.redisHealthy = redisHealthy
        self.channels = channels
        self.clock = clock
    }

    public var sessions: SessionService { security.sessions }
    public var cipher: FieldCipher { security.cipher }
}

/// The HTTP API: every route, on Hummingbird 2.
public struct WardenAPI: Sendable {
    public let services: WardenServices
    public let configuration: ServerConfiguration
    public let metrics: Metrics
    let readinessCache = ReadinessCache()
    /// When the TLS certificate in use expires (`warden_tls_certificate_expiry_seconds`); `nil` without TLS here.
    public var certificateExpiry: (@Sendable () -> Date)?
    /// Set when a graceful shutdown begins: readiness then answers 503 (``DrainingServer``).
    public let shutdown = ShutdownState()
    let routes = RouteTable()

    public init(services: WardenServices, configuration: ServerConfiguration, metrics: Metrics = Metrics()) {
        self.services = services
        self.configuration = configuration
        self.metrics = metrics
    }

    /// The router with every route and the security middleware.
    public func router() -> Router<WardenContext> {
        let router = Router(context: WardenContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: WardenMiddleware(configuration: configuration, limiter: services.limiter, metrics: metrics, clock: services.clock, routes: routes))
        addAuthRoutes(router)
        addMFARoutes(router)
        addSessionRoutes(router)
        addCryptoRoutes(router)
        addAdminRoutes(router)
        addStatusRoutes(router)
        addPasskeyRoutes(router)
        addConsoleSignInRoutes(router)
        addConsoleAccountRoutes(router)
        addConsolePasskeyRoutes(router)
        addConsoleAdminRoutes(router)
        return router
    }

    // MARK: Shared helpers

    /// Adds a route (and records its method for 405 answers; a GET route answers HEAD too).
    func on(_ router: Router<WardenContext>, _ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, WardenContext) async throws -> Response) {
        routes.add(path, method)
        if method == .get { routes.add(path, .head) }
        router.on(RouterPath(path), method: method, use: handler)
    }

    /// The principal behind the request's bearer token (the scheme in any case, RFC 9110 §11.1); 401
    /// otherwise (503 if the session store is down).
    /// With `listingSessions`, the caller's live sessions come back in the same round trip.
    func authenticate(_ request: Request, _ context: inout WardenContext, listingSessions: Bool = false) async throws -> Principal {
        guard let header = request.headers[.authorization], header.utf8.count < 8192, header.utf8.count > 7,
            header.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 })
        else { throw APIError.unauthorized }
        let token = Self.trimmingSpaces(header.utf8.dropFirst(7))
        let principal = try await services.security.authenticate(accessToken: token, context: context.audit, listingSessions: listingSessions)
        context.caller = principal
        return principal
    }

    /// The text between leading and trailing spaces and tabs.
    static func trimmingSpaces(_ bytes: Substring.UTF8View) -> String {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return "" }
        return String(Substring(bytes[first...last]))
    }

    /// The request's JSON body as `T`, or `empty` when the request has no body at all.
    func decode<T: Decodable>(_ type: T.Type, _ request: Request, orIfAbsent empty: T) async throws -> T {
        if request.headers[.contentType] == nil, request.headers[.contentLength].map({ $0 == "0" }) ?? true, request.headers[.transferEncoding] == nil {
            return empty
        }
        return try await decode(type, request)
    }

    /// The request's JSON body as `T` (415, 413, 400 as `JSONBody` describes).
    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        try await JSONBody.decode(type, request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
    }

    func device(_ request: Request, _ context: WardenContext, clientDeviceID: String?) -> Device {
        Device(userAgent: request.headers[.userAgent] ?? "", address: context.clientAddress, clientDeviceID: clientDeviceID)
    }

    static func uuid(_ text: String?) throws -> UUID {
        guard let text, let id = UUID(text: text) else { throw APIError.notFound }
        return id
    }

    /// The account named by the route's `:id`.
    func target(_ context: WardenContext) async throws -> Account {
        try await services.security.target(id: try Self.uuid(context.parameters.get("id")))
    }

    func tokens(_ signedIn: AccountSecurity.SignedIn) -> [String: Any] {
        var object = tokens(signedIn.issued)
        object["device_token"] = signedIn.deviceToken
        return object
    }

    func tokens(_ issued: SessionService.Issued) -> [String: Any] {
        let issuedAt = issued.session.lastActivity
        return [
            "access_token": issued.accessToken, "refresh_token": issued.refreshToken, "token_type": "Bearer",
            "expires_in": Int(issued.accessExpires.timeIntervalSince(issuedAt).rounded(.up)),
            "refresh_expires_in": Int(issued.refreshExpires.timeIntervalSince(issuedAt).rounded(.up)),
            "session_id": issued.session.idHash, "authentication_level": issued.session.level.rawValue,
            "mfa_verified": issued.session.level.isMultiFactor,
        ]
    }

    /// A session as listed (``SessionJSON``).
    static func session(_ session: SessionRecord, current: String?) -> SessionJSON {
        SessionJSON(session, current: current)
    }
}
