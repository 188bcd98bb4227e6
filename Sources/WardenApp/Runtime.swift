import Foundation
import Synchronization
public import WardenAccess
public import WardenAudit
public import WardenAuth
public import WardenCore
public import WardenCrypto
public import WardenMFA
public import WardenRedis
public import WardenSQL
public import WardenSessions

#if canImport(Glibc)
import Glibc
#endif

/// The storage ports Warden's services run on: in production the SQL store (and Redis for sessions and
/// rate limits, when configured), in tests memory stores. Everything above them is wired once, by
/// ``Runtime/make(configuration:stores:masterKey:rotatingWhenDue:hasher:clock:)``.
public struct WardenStores: Sendable {
    public var keyring: any KeyringStore
    public var accounts: any AccountStore
    public var access: any AccessStore
    public var signingKeys: any SigningKeyStore
    public var sessions: any SessionStore
    public var activity: any ActivityStore
    public var ledger: (any RevocationLedger)?
    public var limiter: any RateLimitStore
    public var mfa: any MFAStore
    public var audit: any AuditAppender & AuditLogReader
    /// Records each failed decryption's reason in the audit log, once the store exists.
    public var decryptionFailures: DecryptionFailureRecorder?
    /// Where nodes report the keys they hold: set when keys are shared by several processes (the SQL
    /// store), which makes rotations two-phase (``KeyRollout``).
    public var nodes: (any NodeRegistry)?

    public init(
        keyring: any KeyringStore, accounts: any AccountStore, access: any AccessStore, signingKeys: any SigningKeyStore, sessions: any SessionStore,
        activity: any ActivityStore, ledger: (any RevocationLedger)?, limiter: any RateLimitStore, mfa: any MFAStore, audit: any AuditAppender & AuditLogReader
    ) {
        self.keyring = keyring
        self.accounts = accounts
        self.access = access
        self.signingKeys = signingKeys
        self.sessions = sessions
        self.activity = activity
        self.ledger = ledger
        self.limiter = limiter
        self.mfa = mfa
        self.audit = audit
    }
}

/// The services one process works with, over its stores: what `warden serve` and every command share.
public struct Runtime: Sendable {
    public let cipher: FieldCipher
    public let accounts: AccountService
    public let access: AccessService
    public let authorizer: Authorizer
    public let mfa: MFAService
    public let keys: TokenKeys
    public let tokens: TokenService
    public let sessions: SessionService
    /// Key rotations, in two phases when keys are shared.
    public let rollout: KeyRollout
    public let limiter: any RateLimitStore
    public let audit: any AuditAppender & AuditLogReader
    /// Where second factors are stored (the server builds its own MFA service over it, with delivery).
    public let mfaStore: any MFAStore
    public let masterKey: MasterKey
    public let context: AuditContext
    let configuration: WardenConfiguration
    /// The SQL store, when the runtime was opened from the configuration (the command line's reports need it).
    public internal(set) var store: SQLStore?
    public internal(set) var redis: RedisClient?

    /// Wires the services over `stores` with the configuration's policies.
    ///
    /// - Parameters:
    ///   - hasher: a password hasher of the caller's own (its threads and queue), instead of one made from
    ///     the configuration's scrypt cost and hashing pool.
    ///   - node: the server's name among the nodes (it reports the keys it holds and signs tokens); `nil`
    ///     for a command.
    public static func make(
        configuration: WardenConfiguration, stores: WardenStores, masterKey: MasterKey, rotatingWhenDue: Bool = true, hasher given: PasswordHasher? = nil,
        node: String? = nil, clock: any WallClock = SystemWallClock()
    ) async throws -> Runtime {
        var cipherConfiguration = configuration.cipher
        cipherConfiguration.rotatesWhenDue = rotatingWhenDue
        cipherConfiguration.rotatesInTwoPhases = stores.nodes != nil
        if let failures = stores.decryptionFailures { cipherConfiguration.failureObserver = { failures.observe($0) } }
        if let node, let registry = stores.nodes {
            // Joins the rollout holding nothing before it loads any key: a key published from now on waits
            // for this node's report, and one published before is among what it loads. Reported only after
            // loading, a key promoted in between would be sealed with before this node held it.
            try await registry.report(node: node, fieldKeyVersion: 0, signingKeys: [])
        }
        let cipher = try await FieldCipher.load(store: stores.keyring, masterKey: masterKey, configuration: cipherConfiguration)
        let hashing = configuration.passwordHashing
        let hasher = given ?? PasswordHasher(parameters: configuration.scrypt, maxConcurrent: hashing.threads, maxQueued: hashing.queueLimit)
        let accounts = AccountService(store: stores.accounts, hasher: hasher, cipher: cipher, configuration: configuration.accounts, clock: clock)
        let policy = configuration.sessions
        // Signing keys are loaded by `warden serve` (which signs and verifies): revoking needs no signing
        // key, and a command must not create one (except `warden keys rotate --signing-key`, through `KeyRollout`).
        let keys = TokenKeys(
            store: stores.signingKeys, cipher: cipher, overlap: policy.refreshTokenLifetime, clock: clock, rotatesInTwoPhases: stores.nodes != nil)
        let rollout = KeyRollout(
            cipher: cipher, keys: keys, registry: stores.nodes, node: node, managesSigningKeys: node != nil, policy: configuration.keyRollout)
        let tokens = TokenService(keys: keys, policy: policy)
        let sessions = SessionService(
            store: stores.sessions, activity: stores.activity, ledger: stores.ledger, tokens: tokens, policy: policy, audit: stores.audit, clock: clock)
        let mfa = try MFAService(
            store: stores.mfa, cipher: cipher, hashKey: masterKey.secretHashKey, limiter: stores.limiter, policy: configuration.mfa, clock: clock)
        return Runtime(
            cipher: cipher, accounts: accounts, access: AccessService(store: stores.access, clock: clock), authorizer: Authorizer(store: stores.access, clock: clock),
            mfa: mfa, keys: keys, tokens: tokens, sessions: sessions, rollout: rollout, limiter: stores.limiter, audit: stores.audit, mfaStore: stores.mfa, masterKey: masterKey,
            context: AuditContext(actor: configuration.actor), configuration: configuration)
    }

    /// The use cases, with `mfa` (the server's has delivery configured) or the runtime's own.
    public func security(mfa: MFAService? = nil, policy: AccountSecurity.Policy = AccountSecurity.Policy()) -> AccountSecurity {
        AccountSecurity(
            accounts: accounts, access: access, authorizer: authorizer, sessions: sessions, tokens: tokens,
            mfa: mfa ?? self.mfa, cipher: cipher, limiter: limiter, audit: audit, policy: policy, rollout: rollout)
    }

    /// The command line's operator, as the use cases see it.
    public var principal: Principal { .operator(actor: context.actor) }

    /// Gives back unused seal reservations and closes Redis and the database.
    public func close() async {
        // Unused seal reservations go back to the store; a store that is gone gets 2 s (the reservations
        // then stay counted as used, which only makes a rotation come sooner).
        let cipher = cipher
        _ = await finishes(within: .seconds(2)) { try? await cipher.close() }
        await redis?.close()
        try? await store?.close()
    }

    /// Runs `body`, then closes, whether or not `body` threw.
    public static func with<T>(_ configuration: WardenConfiguration, rotatingWhenDue: Bool = true, _ body: (Runtime) async throws -> T) async throws -> T {
        let runtime = try await configuration.open(rotatingWhenDue: rotatingWhenDue)
        do {
            let result = try await body(runtime)
            await runtime.close()
            return result
        } catch {
            await runtime.close()
            throw error
        }
    }
}

/// Where Warden's notes and warnings at start go (`warden serve` points it at its logger).
public enum Notices {
    private static let sink = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Sends warnings to `handler` (nil: standard error, as `warden: warning: …`).
    public static func route(to handler: (@Sendable (String) -> Void)?) { sink.withLock { $0 = handler } }

    public static func warn(_ message: String) {
        if let handler = sink.withLock({ $0 }) { return handler(message) }
        FileHandle.standardError.write(Data("warden: warning: \(message)\n".utf8))
    }
}

extension WardenConfiguration {
    /// Opens the database (applying migrations), loads the keyring, and builds the services.
    ///
    /// In the embedded default a master key is generated on the very first run; with a database URL
    /// (production) a master key must be configured.
    public func open(rotatingWhenDue: Bool = true, node: String? = nil) async throws -> Runtime {
        let legacyFile = FileKeyringStore(directory: dataDirectory)
        var keyringExists = legacyFile.exists
        if !keyringExists, isEmbedded { keyringExists = try await SQLStore.sqliteHasKeyring(path: sqlitePath) }
        let (masterKey, origin) = try MasterKey.resolve(
            environment: masterKeySettings, dataDirectory: dataDirectory, keyringExists: keyringExists, allowGenerate: isEmbedded)
        // Child processes must not inherit the key.
        unsetenv(MasterKey.environmentVariable)
        if case .generated(let path) = origin {
            Notices.warn(
                """
                no master key configured: generated one at \(path) (mode 0600). This is a development setup: \
                back the key up, and in production set \(MasterKey.environmentVariable) or \(MasterKey.fileEnvironmentVariable).
                """)
        }
        let store = try await SQLStore.open(
            url: databaseURL, sqlitePath: sqlitePath, auditChain: AuditChain(key: masterKey.auditKey), keyringActor: actor,
            connectionWait: .seconds(databaseWaitSeconds))
        var redis: RedisClient?
        do {
            try await importFileKeyring(legacyFile, into: store, masterKey: masterKey)
            redis = try redisURL.map { RedisClient(configuration: try RedisConfiguration(url: $0)) }
            var stores = WardenStores(
                keyring: store, accounts: store, access: store, signingKeys: store, sessions: store, activity: store, ledger: store,
                limiter: store, mfa: store, audit: store)
            stores.nodes = store
            if let redis {
                let sessions = RedisSessionStore(client: redis)
                (stores.sessions, stores.activity, stores.limiter) = (sessions, sessions, RedisRateLimitStore(client: redis))
            }
            let failures = DecryptionFailureRecorder()
            stores.decryptionFailures = failures
            var runtime = try await Runtime.make(configuration: self, stores: stores, masterKey: masterKey, rotatingWhenDue: rotatingWhenDue, node: node)
            failures.attach(store)
            runtime.store = store
            runtime.redis = redis
            return runtime
        } catch {
            await redis?.close()
            try? await store.close()
            throw error
        }
    }

    /// Moves a keyring written by an earlier Warden to `keyring.json` into the database, once: verified
    /// under the master key first, then stored, then the file renamed to `keyring.json.imported`.
    private func importFileKeyring(_ file: FileKeyringStore, into store: SQLStore, masterKey: MasterKey) async throws {
        guard file.exists, try await store.load() == nil, let document = try file.load() else { return }
        _ = try Keyring.verified(document, masterKey: masterKey)
        _ = try await store.update { stored in
            if stored == nil { stored = document }
        }
        try FileManager.default.moveItem(atPath: file.documentPath, toPath: file.documentPath + ".imported")
        Notices.warn("imported the keyring from \(file.documentPath) into the database (the file is kept as keyring.json.imported)")
    }
}
