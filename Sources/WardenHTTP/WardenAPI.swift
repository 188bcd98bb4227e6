import Foundation
import HTTPTypes
public import Hummingbird
public import WardenAccess
public import WardenAudit
public import WardenCore
public import WardenCrypto
public import WardenMFA
public import WardenSessions

/// What the API runs on: the domain services and the health probes of what they depend on.
public struct WardenServices: Sendable {
    public var accounts: AccountService
    public var access: AccessService
    public var authorizer: Authorizer
    public var sessions: SessionService
    public var tokens: TokenService
    public var mfa: MFAService
    public var cipher: FieldCipher
    public var limiter: any RateLimitStore
    public var auditReader: any AuditLogReader
    /// `true` when the database answers.
    public var databaseHealthy: @Sendable () async -> Bool
    /// `nil` without Redis; else `true` when Redis answers.
    public var redisHealthy: (@Sendable () async -> Bool)?
    /// The channels a code can be sent over (a sender is configured).
    public var channels: Set<MFAState.Factor.Kind>
    public var clock: any WallClock

    public init(
        accounts: AccountService, access: AccessService, authorizer: Authorizer, sessions: SessionService, tokens: TokenService, mfa: MFAService,
        cipher: FieldCipher, limiter: any RateLimitStore, auditReader: any AuditLogReader, databaseHealthy: @escaping @Sendable () async -> Bool,
        redisHealthy: (@Sendable () async -> Bool)?, channels: Set<MFAState.Factor.Kind>, clock: any WallClock = SystemWallClock()
    ) {
        self.accounts = accounts
        self.access = access
        self.authorizer = authorizer
        self.sessions = sessions
        self.tokens = tokens
        self.mfa = mfa
        self.cipher = cipher
        self.limiter = limiter
        self.auditReader = auditReader
        self.databaseHealthy = databaseHealthy
        self.redisHealthy = redisHealthy
        self.channels = channels
        self.clock = clock
    }
}

/// The HTTP API: every route, on Hummingbird 2.
public struct WardenAPI: Sendable {
    public let services: WardenServices
    public let configuration: ServerConfiguration
    public let metrics: Metrics

    public init(services: WardenServices, configuration: ServerConfiguration, metrics: Metrics = Metrics()) {
        self.services = services
        self.configuration = configuration
        self.metrics = metrics
    }

    /// The router with every route and the security middleware.
    public func router() -> Router<WardenContext> {
        let router = Router(context: WardenContext.self)
        router.add(middleware: WardenMiddleware(configuration: configuration, limiter: services.limiter, metrics: metrics, clock: services.clock))
        addAuthRoutes(router)
        addMFARoutes(router)
        addSessionRoutes(router)
        addCryptoRoutes(router)
        addAdminRoutes(router)
        addStatusRoutes(router)
        return router
    }

    // MARK: Shared helpers

    /// The caller of a request with a valid access token whose session is live and whose account is
    /// active; 401 otherwise (503 if the session store is down).
    func authenticate(_ request: Request, _ context: inout WardenContext) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.utf8.count < 8192 else { throw APIError.unauthorized }
        let authenticated = try await services.sessions.authenticate(accessToken: String(header.dropFirst("Bearer ".count)))
        guard let account = try await services.accounts.account(id: authenticated.accountID), account.status == .active else { throw APIError.unauthorized }
        let caller = Caller(account: account, session: authenticated)
        context.caller = caller
        return caller
    }

    /// 403 unless the caller's effective permissions cover `permission`.
    func require(_ permission: String, _ caller: Caller) async throws {
        guard let wanted = Permission(permission), try await services.authorizer.isAllowed(caller.account, wanted) else { throw APIError.forbidden }
    }

    func body(_ request: Request) async throws -> JSONBody {
        try await JSONBody.read(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
    }

    func device(_ request: Request, _ context: WardenContext, clientDeviceID: String?) -> Device {
        Device(userAgent: request.headers[.userAgent] ?? "", address: context.clientAddress, clientDeviceID: clientDeviceID)
    }

    static func uuid(_ text: String?) throws -> UUID {
        guard let text, let id = UUID(uuidString: text) else { throw APIError.notFound }
        return id
    }

    func tokens(_ issued: SessionService.Issued) -> [String: Any] {
        let issuedAt = issued.session.lastActivity
        return [
            "access_token": issued.accessToken, "refresh_token": issued.refreshToken, "token_type": "Bearer",
            "expires_in": Int(issued.accessExpires.timeIntervalSince(issuedAt).rounded(.up)),
            "refresh_expires_in": Int(issued.refreshExpires.timeIntervalSince(issuedAt).rounded(.up)),
            "session_id": issued.session.idHash, "authentication_level": issued.session.level.rawValue,
        ]
    }

    static func session(_ session: SessionRecord, current: String?) -> [String: Any] {
        [
            "id": session.idHash, "created_at": JSONResponse.timestamp(session.created), "last_activity": JSONResponse.timestamp(session.lastActivity),
            "expires_at": JSONResponse.timestamp(session.absoluteExpiry), "authentication_level": session.level.rawValue,
            "device": ["user_agent": session.device.userAgent, "address": session.device.address, "fingerprint": session.device.fingerprint],
            "current": session.idHash == current,
        ]
    }
}
