import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import Prometheus
import Synchronization
import Testing
import WardenAccess
import WardenApp
import WardenAudit
import WardenAuth
import WardenCore
import WardenCrypto
import WardenHTTP
import WardenMFA
import WardenSessions
import WardenWebAuthn

/// Everything on memory stores, with cheap password hashing unless told otherwise: the API's behaviour,
/// not the stores'.
struct APIFixture: Sendable {
    static let masterKey = try! MasterKey(bytes: [UInt8](repeating: 5, count: 32))
    /// 2^10: fast enough for hundreds of logins in a debug build.
    static let cheapPasswords = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)
    /// The relying party the console and the passkey routes use: the router test client's `localhost`.
    static let localhost = RelyingParty(id: "localhost", name: "Warden", origins: ["http://localhost"])
    let api: WardenAPI
    let audit: MemoryAuditLog
    let directory: MemoryDirectory
    let accounts: AccountService
    let access: AccessService
    let sessionStore: SwitchableSessionStore
    let ledger: MemoryRevocationLedger

    /// - Parameters:
    ///   - passwords: scrypt parameters of the password hasher (production's are `PasswordHasher`'s default).
    ///   - hasher: a hasher of the test's own (its threads and queue), instead of one with `passwords`.
    ///   - accountConfiguration: the account service's password and login policies.
    ///   - relyingParty: where passkeys are registered and used (`nil`: passkeys are off).
    static func make(
        passwords: ScryptParameters = cheapPasswords, hasher: PasswordHasher? = nil, accountConfiguration: AccountService.Configuration = AccountService.Configuration(),
        databaseProbes: ProbeCounter? = nil, clock: any WallClock = SystemWallClock(), relyingParty: RelyingParty? = localhost, _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> APIFixture {
        // The production wiring (`WardenApplication.api` over `Runtime.make`), on memory stores.
        var configuration = WardenConfiguration()
        configuration.server.tls = true
        configuration.server.port = 0
        configure(&configuration.server)
        configuration.scrypt = passwords
        configuration.accounts = accountConfiguration
        configuration.relyingParty = relyingParty
        configuration.actor = "test"
        let audit = MemoryAuditLog(chain: AuditChain(key: masterKey.auditKey))
        let directory = MemoryDirectory(auditLog: audit)
        let store = SwitchableSessionStore()
        let ledger = MemoryRevocationLedger()
        let stores = WardenStores(
            keyring: MemoryKeyringStore(), accounts: directory, access: directory, signingKeys: MemorySigningKeyStore(), sessions: store, activity: store,
            ledger: ledger, limiter: MemoryRateLimitStore(), mfa: MemoryMFAStore(audit: audit), audit: audit)
        let runtime = try await Runtime.make(configuration: configuration, stores: stores, masterKey: masterKey, hasher: hasher)
        try await runtime.keys.load()
        let api = try WardenApplication.api(
            configuration: configuration, runtime: runtime, metrics: Self.metrics(),
            databaseHealthy: {
                await databaseProbes?.probe()
                return true
            }, clock: clock)
        return APIFixture(api: api, audit: audit, directory: directory, accounts: runtime.accounts, access: runtime.access, sessionStore: store, ledger: ledger)
    }

    /// Metrics over a registry of the fixture's own (never the process-wide bootstrap, which a test
    /// process can make only once), with the buckets `warden serve` uses.
    static func metrics() -> Metrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Metrics.requestBuckets
        factory.durationHistogramBuckets = Metrics.durationBuckets
        return Metrics(factory: factory, exposition: { registry.emitToString() })
    }

    /// The application `warden serve` runs (`WardenServer.application`: the HTTP/1.1 channel with header
    /// and idle timeouts, the security-headers guard), without TLS, on a free port of the loopback address.
    var app: some ApplicationProtocol {
        get throws { try WardenServer.application(api: api, tls: nil, logger: Logger(label: "warden.test")) }
    }

    /// Creates an account (with roles) directly.
    @discardableResult
    func account(_ name: String, password: String = "correct horse battery staple", roles: [String] = []) async throws -> Account {
        let account = try await accounts.create(username: name, password: password, context: AuditContext(actor: "test"))
        for role in roles { try await access.grant(role, to: account, context: AuditContext(actor: "test")) }
        return account
    }
}

/// A session store that can be made to fail, to show what the API does when Redis is down.
final class SwitchableSessionStore: SessionStore, ActivityStore {
    let inner = MemorySessionStore()
    let down = AtomicFlag()

    private func check() throws { if down.value { throw CancellationError() } }
    func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String] {
        try check()
        return try await inner.create(session, limit: limit, whenFull: whenFull, now: now)
    }
    func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord? {
        try check()
        return await inner.validate(sessionHash: sessionHash, accountID: accountID, tokenID: tokenID, now: now)
    }
    func session(hash: String, accountID: UUID) async throws -> SessionRecord? {
        try check()
        return await inner.session(hash: hash, accountID: accountID)
    }
    func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord] {
        try check()
        return await inner.sessions(accountID: accountID, now: now)
    }
    func revoke(sessionHash: String, accountID: UUID) async throws -> Bool {
        try check()
        return await inner.revoke(sessionHash: sessionHash, accountID: accountID)
    }
    func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String] {
        try check()
        return await inner.revokeAll(accountID: accountID, except: except, watermark: watermark)
    }
    func revokeToken(id: String, accountID: UUID, until: Date) async throws {
        try check()
        await inner.revokeToken(id: id, accountID: accountID, until: until)
    }
    func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation {
        try check()
        return await inner.rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now)
    }
    func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) async throws -> LoginActivity {
        try check()
        return await inner.recordLogin(accountID: accountID, device: device, now: now, window: window)
    }
    func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) async throws -> Int {
        try check()
        return await inner.recordFailedLogin(accountID: accountID, now: now, window: window)
    }
    func devices(accountID: UUID) async throws -> [DeviceSighting] {
        try check()
        return await inner.devices(accountID: accountID)
    }
}

final class AtomicFlag: Sendable {
    private let storage = Mutex(false)
    var value: Bool { storage.withLock { $0 } }
    func set(_ value: Bool) { storage.withLock { $0 = value } }
}

extension TestClientProtocol {
    /// Sends JSON and returns the status, the headers and the decoded JSON object (if any).
    func json(
        _ method: HTTPRequest.Method, _ uri: String, _ body: [String: Any]? = nil, token: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any]) {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, response.headers, object)
        }
    }

    /// Logs in with a password; returns the tokens object.
    func login(_ username: String, _ password: String = "correct horse battery staple") async throws -> [String: Any] {
        let response = try await json(.post, "/auth/login", ["username": username, "password": password])
        #expect(response.status == .ok, "\(response.body)")
        return response.body
    }
}
