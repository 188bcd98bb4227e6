/// One setting Warden reads: where it comes from and what it allows.
///
/// The list, ``Setting/all``, is the configuration's declaration: ``WardenConfiguration`` reads each
/// setting by it (and only those), `warden config show` prints it, and `docs/configuration.md` holds the
/// reference table generated from it (`warden config reference`; a test compares the two).
public struct Setting: Sendable, Hashable {
    /// The environment variable, e.g. `WARDEN_PORT`.
    public let environment: String
    /// The key in a configuration file (JSON or YAML), dotted: `server.port` is `{"server": {"port": …}}`.
    public let key: String
    /// The command-line flag of `warden serve` (or of every command), if there is one.
    public let flag: String?
    /// The documentation's section.
    public let section: Section
    /// What the value is when nothing sets it.
    public let defaultValue: String
    /// What is allowed.
    public let allowed: String
    /// A secret: never printed (`config show` says only that it is set and where), and also read from a
    /// file named by `<VARIABLE>_FILE` (or the file key `<key>File`).
    public let isSecret: Bool
    /// Refused in a configuration file (the master key: a file of settings is not a key file).
    public let fileAllowed: Bool

    public enum Section: String, Sendable, CaseIterable {
        case storage = "Storage"
        case keys = "Keys and field encryption"
        case accounts = "Accounts, passwords and lockout"
        case sessions = "Sessions and tokens"
        case mfa = "Multi-factor authentication"
        case server = "HTTP server"
        case limits = "Rate and size limits"
        case tls = "TLS"
        case passkeys = "Passkeys"
        case delivery = "Delivery"
        case observability = "Logs, metrics and traces"
    }

    init(
        _ environment: String, _ key: String, flag: String? = nil, _ section: Section, default defaultValue: String, _ allowed: String,
        secret: Bool = false, fileAllowed: Bool = true
    ) {
        self.environment = environment
        self.key = key
        self.flag = flag
        self.section = section
        self.defaultValue = defaultValue
        self.allowed = allowed
        self.isSecret = secret
        self.fileAllowed = fileAllowed
    }

    /// The variable naming a file that holds a secret setting's value.
    public var fileEnvironment: String? { isSecret ? environment + "_FILE" : nil }
    /// The configuration-file key naming a file that holds a secret setting's value.
    public var fileKey: String? { isSecret ? key + "File" : nil }

    /// The setting read from `variable`, if it is one of Warden's.
    public static func named(_ variable: String) -> Setting? { byEnvironment[variable] }
    static let byEnvironment = Dictionary(uniqueKeysWithValues: all.map { ($0.environment, $0) })
}

extension Setting {
    /// Every setting, in the documentation's order.
    public static let all: [Setting] = [
        // Storage
        Setting("WARDEN_DATA_DIR", "dataDir", flag: "--data-dir", .storage, default: "./.warden", "a directory (created with mode 0700)"),
        Setting(
            "WARDEN_DATABASE_URL", "database.url", .storage, default: "SQLite in the data directory",
            "postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-ca|verify-full&sslrootcert=CA.pem", secret: true),
        Setting(
            "WARDEN_DATABASE_WAIT_SECONDS", "database.waitSeconds", .storage, default: "5",
            "1–60: how long a request waits for a pooled PostgreSQL connection before answering 503"),
        Setting(
            "WARDEN_REDIS_URL", "redis.url", flag: "--redis-url", .storage, default: "none: sessions and rate limits in the database",
            "redis://[user:password@]host[:port][/db], rediss:// (TLS), or a cluster: redis+cluster://[user:password@]host:port[,host:port…]", secret: true),
        // Keys
        Setting(
            "WARDEN_MASTER_KEY", "masterKey", .keys, default: "generated in the data directory (embedded setup only)",
            "base64 of 32 random bytes", secret: true, fileAllowed: false),
        Setting("WARDEN_KEY_ROTATION_DAYS", "keys.rotationDays", flag: "--rotation-days", .keys, default: "30", "more than 0, at most 3650 (fractions allowed)"),
        Setting("WARDEN_KEY_GRACE_DAYS", "keys.graceDays", .keys, default: "twice the rotation period", "0–3650"),
        Setting(
            "WARDEN_KEY_RELOAD_SECONDS", "keys.reloadSeconds", .keys, default: "30",
            "1–3600: how often a node re-reads the keys when no change notification comes (PostgreSQL notifies at once)"),
        Setting(
            "WARDEN_KEY_PROPAGATION_SECONDS", "keys.propagationSeconds", .keys, default: "twice the reload interval",
            "0–86400: the longest a published key waits for every live node before it seals or signs"),
        Setting("WARDEN_SEAL_LIMIT", "keys.sealLimit", .keys, default: "1073741824", "1–4294967296"),
        Setting("WARDEN_MAX_PLAINTEXT_BYTES", "keys.maxPlaintextBytes", .keys, default: "1048576", "1–1073741824"),
        Setting("WARDEN_LEGACY_MASTER_KEY", "legacy.masterKey", .keys, default: "none", "the original system's master key", secret: true),
        Setting("WARDEN_LEGACY_ENCRYPTION_KEY", "legacy.encryptionKey", .keys, default: "none", "the original system's Fernet key", secret: true),
        Setting("WARDEN_LEGACY_KEY_VERSIONS", "legacy.keyVersions", .keys, default: "any", "comma-separated envelope versions"),
        // Accounts
        Setting("WARDEN_PASSWORD_MIN_LENGTH", "passwords.minLength", .accounts, default: "12", "8–128"),
        Setting("WARDEN_SCRYPT_LOG_N", "passwords.scrypt.logN", .accounts, default: "17", "10–22 (with r and p, at most 1 GiB)"),
        Setting("WARDEN_SCRYPT_R", "passwords.scrypt.r", .accounts, default: "8", "1–32"),
        Setting("WARDEN_SCRYPT_P", "passwords.scrypt.p", .accounts, default: "1", "1–16"),
        Setting("WARDEN_PASSWORD_HASH_THREADS", "passwords.hashThreads", .accounts, default: "half the processors, at least 1", "1–256"),
        Setting("WARDEN_PASSWORD_HASH_QUEUE", "passwords.hashQueue", .accounts, default: "4 per hashing thread", "0–100000"),
        Setting("WARDEN_SEAL_EMAILS", "accounts.sealEmails", .accounts, default: "true", "true or false"),
        Setting("WARDEN_LOGIN_LOCK_THRESHOLD", "lockout.threshold", .accounts, default: "10", "3–100 failed passwords before a lock"),
        Setting("WARDEN_LOGIN_LOCK_MINUTES", "lockout.minutes", .accounts, default: "15", "1–1440, doubling with each lock"),
        Setting("WARDEN_LOGIN_LOCK_MAX_HOURS", "lockout.maxHours", .accounts, default: "24", "1–720, at least the first lock"),
        Setting("WARDEN_LOGIN_FAILURE_CEILING", "lockout.ceiling", .accounts, default: "100", "the threshold–100 (SP 800-63B): password logins stop"),
        // Sessions
        Setting("WARDEN_ACCESS_TOKEN_MINUTES", "sessions.accessTokenMinutes", .sessions, default: "15", "1–60"),
        Setting("WARDEN_REFRESH_TOKEN_DAYS", "sessions.refreshTokenDays", .sessions, default: "30", "1–365: also a session's absolute lifetime"),
        Setting("WARDEN_SESSION_IDLE_DAYS", "sessions.idleDays", .sessions, default: "7", "more than 0, at most the refresh lifetime (fractions allowed)"),
        Setting("WARDEN_MAX_SESSIONS", "sessions.maximum", .sessions, default: "10", "1–1000 live sessions per account"),
        Setting("WARDEN_SESSIONS_WHEN_FULL", "sessions.whenFull", .sessions, default: "evict-oldest", "evict-oldest or deny-new"),
        // MFA
        Setting("WARDEN_MFA_ISSUER", "mfa.issuer", .mfa, default: "Warden", "1–64 characters, no colon"),
        Setting("WARDEN_TOTP_WINDOW", "mfa.totpWindow", .mfa, default: "1", "0–2 steps either side"),
        Setting("WARDEN_MFA_CODE_MINUTES", "mfa.codeMinutes", .mfa, default: "5", "1–10: SMS and email codes"),
        Setting("WARDEN_MFA_CODE_ATTEMPTS", "mfa.codeAttempts", .mfa, default: "5", "1–10 per code"),
        Setting("WARDEN_MFA_LOCK_THRESHOLD", "mfa.lockThreshold", .mfa, default: "5", "1–20 failed codes before a lock"),
        Setting("WARDEN_MFA_LOCK_MINUTES", "mfa.lockMinutes", .mfa, default: "5", "1–1440, doubling, at most a day"),
        Setting("WARDEN_MFA_HARD_STOP", "mfa.hardStop", .mfa, default: "100", "the lock threshold–100: MFA stops until reset"),
        Setting("WARDEN_MFA_RECENT_MINUTES", "mfa.recentAuthenticationMinutes", .mfa, default: "15", "1–60: how recent a second factor must be to change factors"),
        Setting("WARDEN_BACKUP_CODE_COUNT", "mfa.backupCodeCount", .mfa, default: "10", "5–20"),
        // Server
        Setting("WARDEN_HOST", "server.host", flag: "--host", .server, default: "127.0.0.1", "an address or host name"),
        Setting("WARDEN_PORT", "server.port", flag: "--port", .server, default: "8443", "0–65535 (0 picks a free port)"),
        Setting("WARDEN_REGISTRATION", "server.registration", flag: "--registration", .server, default: "admin", "open, invite or admin"),
        Setting("WARDEN_INVITE_CODES", "server.inviteCodes", .server, default: "none", "comma-separated (needed by invite registration)", secret: true),
        Setting("WARDEN_TRUSTED_PROXIES", "server.trustedProxies", flag: "--trusted-proxy", .server, default: "none", "addresses or CIDR blocks, comma-separated"),
        Setting("WARDEN_CORS_ORIGINS", "server.corsOrigins", flag: "--cors-origin", .server, default: "none", "exact origins, comma-separated; not *"),
        Setting("WARDEN_API_COMPATIBILITY", "server.apiCompatibility", .server, default: "warden", "warden or original"),
        Setting("WARDEN_METRICS_ADDRESSES", "server.metricsAddresses", .server, default: "127.0.0.1,::1", "addresses allowed to read /metrics"),
        Setting("WARDEN_IDLE_TIMEOUT_SECONDS", "server.idleTimeoutSeconds", .server, default: "60", "1–3600"),
        Setting("WARDEN_HEADER_TIMEOUT_SECONDS", "server.headerTimeoutSeconds", .server, default: "10", "1–3600"),
        Setting("WARDEN_BODY_TIMEOUT_SECONDS", "server.bodyTimeoutSeconds", .server, default: "30", "1–3600: a request body, from its head to its end"),
        Setting(
            "WARDEN_BODY_MIN_BYTES_PER_SECOND", "server.bodyMinimumBytesPerSecond", .server, default: "1024",
            "0–1048576: a body's average rate after the grace period (0: no minimum)"),
        Setting("WARDEN_BODY_RATE_GRACE_SECONDS", "server.bodyRateGraceSeconds", .server, default: "5", "1–3600"),
        Setting(
            "WARDEN_RESPONSE_TIMEOUT_SECONDS", "server.responseTimeoutSeconds", .server, default: "30",
            "1–3600: a response, from its head to its last byte written to the client"),
        Setting(
            "WARDEN_SHUTDOWN_DRAIN_SECONDS", "server.shutdownDrainSeconds", .server, default: "5",
            "0–20: at shutdown, readiness answers 503 this long before new connections are refused"),
        Setting(
            "WARDEN_SHUTDOWN_GRACE_SECONDS", "server.shutdownGraceSeconds", .server, default: "15",
            "1–20: then requests in flight get this long to finish (drain + grace at most 25)"),
        Setting("WARDEN_EXECUTOR", "server.executor", .server, default: "nio", "nio or swift (read from the environment only, before anything starts)", fileAllowed: false),
        // Limits
        Setting("WARDEN_RATE_LIMIT_PER_MINUTE", "limits.perMinute", .limits, default: "600", "1–1000000 requests per client address"),
        Setting("WARDEN_AUTH_RATE_LIMIT_PER_MINUTE", "limits.authPerMinute", .limits, default: "30", "1–1000000 sign-in requests per address"),
        Setting("WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE", "limits.loginPerMinute", .limits, default: "10", "1–1000000 logins per username and address"),
        Setting("WARDEN_MAX_BODY_BYTES", "limits.maxBodyBytes", .limits, default: "1048576", "1024–67108864"),
        Setting("WARDEN_MAX_JSON_DEPTH", "limits.maxJSONDepth", .limits, default: "32", "4–128"),
        Setting("WARDEN_MAX_BATCH", "limits.maxBatch", .limits, default: "100", "1–1000 items per field-encryption request"),
        // TLS
        Setting("WARDEN_TLS", "tls.enabled", flag: "--no-tls", .tls, default: "on", "on or off"),
        Setting("WARDEN_TLS_CERT", "tls.cert", flag: "--tls-cert", .tls, default: "generated in the data directory", "a PEM certificate chain"),
        Setting("WARDEN_TLS_KEY", "tls.key", flag: "--tls-key", .tls, default: "generated in the data directory", "a PEM private key, mode 0600 or stricter"),
        Setting("WARDEN_TLS_MIN", "tls.minimumVersion", flag: "--allow-tls12", .tls, default: "1.3", "1.2 or 1.3"),
        Setting("WARDEN_TLS_SIGN_OFF_LOOP", "tls.signOffLoop", .tls, default: "on", "on or off"),
        Setting("WARDEN_TLS_RELOAD_SECONDS", "tls.reloadSeconds", .tls, default: "60", "1–86400: how often the certificate and key files are checked for a new pair"),
        Setting("WARDEN_HSTS_MAX_AGE", "tls.hsts.maxAge", .tls, default: "31536000", "0–63072000 seconds"),
        Setting("WARDEN_HSTS_INCLUDE_SUBDOMAINS", "tls.hsts.includeSubdomains", .tls, default: "off", "on or off"),
        // Passkeys
        Setting("WARDEN_WEBAUTHN_RP_ID", "passkeys.rpId", .passkeys, default: "localhost, or the host name served", "a domain, or off"),
        Setting("WARDEN_WEBAUTHN_ORIGINS", "passkeys.origins", .passkeys, default: "the served origin", "https:// origins, comma-separated (http:// for localhost)"),
        // Delivery
        Setting("WARDEN_SMTP_HOST", "smtp.host", .delivery, default: "none", "a host name"),
        Setting("WARDEN_SMTP_PORT", "smtp.port", .delivery, default: "587 (465 with tls)", "1–65535"),
        Setting("WARDEN_SMTP_SECURITY", "smtp.security", .delivery, default: "starttls", "starttls, tls or none (loopback only)"),
        Setting("WARDEN_SMTP_USERNAME", "smtp.username", .delivery, default: "none", "a user name"),
        Setting("WARDEN_SMTP_PASSWORD", "smtp.password", .delivery, default: "none", "a password", secret: true),
        Setting("WARDEN_SMTP_FROM", "smtp.from", .delivery, default: "warden@localhost", "an address"),
        Setting("WARDEN_SMS_ACCOUNT_SID", "sms.accountSid", .delivery, default: "none", "the provider's account id"),
        Setting("WARDEN_SMS_AUTH_TOKEN", "sms.authToken", .delivery, default: "none", "the provider's token", secret: true),
        Setting("WARDEN_SMS_FROM", "sms.from", .delivery, default: "none", "the sending number"),
        Setting("WARDEN_SMS_BASE_URL", "sms.baseUrl", .delivery, default: "https://api.twilio.com", "an https:// URL"),
        Setting("WARDEN_DEV_OUTBOX", "delivery.devOutbox", .delivery, default: "on in the embedded setup without SMTP or SMS", "on or off"),
        // Observability
        Setting("WARDEN_LOG_LEVEL", "log.level", .observability, default: "info", "trace, debug, info, notice, warning, error or critical"),
        Setting("WARDEN_LOG_FORMAT", "log.format", flag: "--log-format", .observability, default: "text on a terminal, json otherwise", "json or text"),
        Setting("WARDEN_ACCESS_LOG_SAMPLE", "log.accessSample", .observability, default: "1", "1–1000000: one successful request in N is logged"),
        Setting("WARDEN_OTEL_ENDPOINT", "traces.endpoint", .observability, default: "none: nothing is traced", "an http(s) URL of an OTLP/HTTP collector (/v1/traces added without a path)"),
        Setting("WARDEN_OTEL_SERVICE_NAME", "traces.serviceName", .observability, default: "warden", "one line, at most 128 characters"),
        Setting("WARDEN_OTEL_SAMPLE_RATIO", "traces.sampleRatio", .observability, default: "1", "0–1: the share of new traces recorded"),
    ]
}
