import Foundation
import WardenAccess
import WardenAudit
import WardenAuth
import WardenCore
import WardenCrypto
import WardenMFA
import WardenRedis
import WardenSQL
import WardenSessions

#if canImport(Glibc)
import Glibc
#endif

/// Everything the command line reads from flags and the environment.
struct Settings {
    let dataDirectory: String
    /// `WARDEN_DATABASE_URL` (PostgreSQL), or nil for the SQLite file in the data directory.
    let databaseURL: String?
    var configuration: FieldCipher.Configuration
    var accounts: AccountService.Configuration
    var scrypt: ScryptParameters
    var passwordHashing: PasswordHashing
    let environment: [String: String]
    /// `WARDEN_KEY_GRACE_DAYS`: how long a version that stopped sealing stays open at least; its grace
    /// closes by itself after that once no counted value uses it (default twice the rotation period).
    var keyGrace: TimeInterval = 60 * 86_400

    /// How many password hashes run at once, and how many may wait.
    struct PasswordHashing {
        /// `WARDEN_PASSWORD_HASH_THREADS`: half the processors by default, so a login storm leaves the
        /// other half to the rest of the API.
        var threads = PasswordHasher.defaultThreadCount
        /// `WARDEN_PASSWORD_HASH_QUEUE`: hashes that may wait for a thread before `warden serve` refuses
        /// more with 503 `busy` (default 4 per thread).
        var queue: Int?
        /// Refuse hashes past the queue (`warden serve`); the other commands wait instead.
        var sheds = false

        var queueLimit: Int? { sheds ? (queue ?? 4 * threads) : nil }
    }

    var sqlitePath: String { dataDirectory + "/warden.db" }

    /// `WARDEN_REDIS_URL` (or `warden serve --redis-url`): sessions and rate limits in Redis; else in the
    /// database. The command line uses the same, so that what it revokes is revoked where the server looks.
    var redisURL: String? {
        get { redisOverride ?? environment["WARDEN_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } }
        set { redisOverride = newValue }
    }
    var redisOverride: String? = nil

    /// Who the command line acts as in the audit log.
    var actor: String {
        let user = environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "uid\(getuid())"
        return "cli:\(user)"
    }

    /// Opens the database (applying migrations), loads the keyring, and builds the services.
    ///
    /// In the embedded default a master key is generated on the very first run; with
    /// `WARDEN_DATABASE_URL` set (production) a master key must be configured.
    func open(rotatingWhenDue: Bool = true) async throws -> Runtime {
        let legacyFile = FileKeyringStore(directory: dataDirectory)
        let embedded = databaseURL == nil
        var keyringExists = legacyFile.exists
        if !keyringExists, embedded { keyringExists = try await SQLStore.sqliteHasKeyring(path: sqlitePath) }
        let (masterKey, origin) = try MasterKey.resolve(
            environment: environment, dataDirectory: dataDirectory, keyringExists: keyringExists, allowGenerate: embedded)
        // Child processes must not inherit the key.
        unsetenv(MasterKey.environmentVariable)
        if case .generated(let path) = origin {
            Terminal.warn("""
                no master key configured: generated one at \(path) (mode 0600). This is a development setup: \
                back the key up, and in production set \(MasterKey.environmentVariable) or \(MasterKey.fileEnvironmentVariable).
                """)
        }
        let store = try await SQLStore.open(
            url: databaseURL, sqlitePath: sqlitePath, auditChain: AuditChain(key: masterKey.auditKey), keyringActor: actor)
        var redis: RedisClient?
        do {
            try await importFileKeyring(legacyFile, into: store, masterKey: masterKey)
            var configuration = configuration
            configuration.rotatesWhenDue = rotatingWhenDue
            let failures = DecryptionFailureRecorder()
            configuration.failureObserver = { failures.observe($0) }
            let cipher = try await FieldCipher.load(store: store, masterKey: masterKey, configuration: configuration)
            failures.attach(store)
            let hasher = PasswordHasher(parameters: scrypt, maxConcurrent: passwordHashing.threads, maxQueued: passwordHashing.queueLimit)
            let accounts = AccountService(store: store, hasher: hasher, cipher: cipher, configuration: accounts)
            let access = AccessService(store: store)

            let policy = SessionPolicy()
            // Loaded only by `warden serve` (which signs and verifies): revoking needs no signing key, and a
            // command must not create one.
            let keys = TokenKeys(store: store, cipher: cipher, overlap: policy.refreshTokenLifetime)
            let tokens = TokenService(keys: keys, policy: policy)
            redis = try redisURL.map { RedisClient(configuration: try RedisConfiguration(url: $0)) }
            let sessionStore: any SessionStore
            let activity: any ActivityStore
            let limiter: any RateLimitStore
            if let redis {
                let sessions = RedisSessionStore(client: redis)
                (sessionStore, activity, limiter) = (sessions, sessions, RedisRateLimitStore(client: redis))
            } else {
                (sessionStore, activity, limiter) = (store, store, store)
            }
            let sessions = SessionService(store: sessionStore, activity: activity, ledger: store, tokens: tokens, policy: policy, audit: store)
            let mfa = try MFAService(store: store, cipher: cipher, hashKey: masterKey.secretHashKey, limiter: limiter)
            return Runtime(
                store: store, cipher: cipher, accounts: accounts, access: access, mfa: mfa, keys: keys, tokens: tokens, sessions: sessions,
                limiter: limiter, redis: redis, masterKey: masterKey, context: AuditContext(actor: actor))
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
        Terminal.warn("imported the keyring from \(file.documentPath) into the database (the file is kept as keyring.json.imported)")
    }
}

/// The opened state and services one command works with.
struct Runtime {
    let store: SQLStore
    let cipher: FieldCipher
    let accounts: AccountService
    let access: AccessService
    let mfa: MFAService
    let keys: TokenKeys
    let tokens: TokenService
    let sessions: SessionService
    let limiter: any RateLimitStore
    let redis: RedisClient?
    let masterKey: MasterKey
    let context: AuditContext

    /// The use cases, with `mfa` (the server's has delivery configured) or the runtime's own.
    func security(mfa: MFAService? = nil, policy: AccountSecurity.Policy = AccountSecurity.Policy()) -> AccountSecurity {
        AccountSecurity(
            accounts: accounts, access: access, authorizer: Authorizer(store: store), sessions: sessions, tokens: tokens,
            mfa: mfa ?? self.mfa, cipher: cipher, limiter: limiter, audit: store, policy: policy)
    }

    /// The command line's operator, as the use cases see it.
    var principal: Principal { .operator(actor: context.actor) }

    /// Gives back unused seal reservations and closes Redis and the database.
    func close() async {
        try? await cipher.close()
        await redis?.close()
        try? await store.close()
    }

    /// Runs `body`, then closes, whether or not `body` threw.
    static func with<T>(_ settings: Settings, rotatingWhenDue: Bool = true, _ body: (Runtime) async throws -> T) async throws -> T {
        let runtime = try await settings.open(rotatingWhenDue: rotatingWhenDue)
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
