public import Foundation
public import Logging
public import WardenAccess
public import WardenAuth
public import WardenCrypto
public import WardenHTTP
public import WardenMFA
public import WardenSessions
public import WardenWebAuthn

/// Everything Warden is configured with, read once at start from flags, the environment and a
/// configuration file (``load(flags:environment:file:terminal:)``), validated as a whole, then passed down.
///
/// Nothing else reads the environment: the services get their policies from here.
public struct WardenConfiguration: Sendable {
    /// The data directory (`WARDEN_DATA_DIR`).
    public var dataDirectory = "./.warden"
    /// PostgreSQL (`WARDEN_DATABASE_URL`), or nil for SQLite in the data directory.
    public var databaseURL: String?
    /// How long a caller waits for a pooled PostgreSQL connection before failing (`WARDEN_DATABASE_WAIT_SECONDS`).
    public var databaseWaitSeconds = 5
    /// Redis for sessions and rate limits (`WARDEN_REDIS_URL`), or nil for the database.
    public var redisURL: String?
    /// The master key: the settings `MasterKey.resolve` reads (`WARDEN_MASTER_KEY` or `WARDEN_MASTER_KEY_FILE`).
    public var masterKeySettings: [String: String] = [:]
    /// Field encryption: rotation, seal limit, plaintext limit, the original system's keys.
    public var cipher = FieldCipher.Configuration()
    /// How long a version that stopped sealing stays open at least (`WARDEN_KEY_GRACE_DAYS`).
    public var keyGrace: TimeInterval = 60 * 86_400
    /// Password policy, login lockout, whether emails are sealed.
    public var accounts = AccountService.Configuration()
    public var scrypt = ScryptParameters.owasp
    public var passwordHashing = PasswordHashing()
    /// Lifetimes and limits of sessions and tokens.
    public var sessions = SessionPolicy()
    /// Second factors: TOTP window, codes, lockout, backup codes.
    public var mfa = MFAPolicy()
    /// The HTTP server: listener, TLS version, HSTS, registration, proxies, CORS, limits, timeouts.
    public var server = ServerConfiguration()
    /// Certificate and key files, or nil for a generated self-signed pair.
    public var tlsFiles: (certificate: String, key: String)?
    /// Handshake signatures on a thread of their own (`WARDEN_TLS_SIGN_OFF_LOOP`).
    public var tlsSignsOffLoop = true
    /// How keys roll out across nodes: reload interval and propagation interval (``KeyRollout``).
    public var keyRollout = KeyRollout.Policy()
    /// How often `warden serve` checks the certificate and key files for a new pair (``TLSReload``).
    public var tlsReloadSeconds = 60
    /// Where passkeys are registered and used, or nil when they are off (`WARDEN_WEBAUTHN_RP_ID=off`).
    public var relyingParty: RelyingParty?
    public var delivery = Delivery()
    /// Trace export over OTLP/HTTP, or nil: no tracer, and no span is made.
    public var traces: Traces?
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    /// Who the command line acts as in the audit log (`cli:<user>`).
    public var actor = "cli:unknown"
    /// The environment as read, with the original system's variables applied where they stand in for
    /// Warden's: `warden migrate` finds the original's database paths there.
    public var environment: [String: String] = [:]
    /// Where each setting that was set came from, by variable name.
    public var sources: [String: Source] = [:]
    /// The text of each setting that was set, by variable name (secrets included: print only through
    /// ``report()``, which redacts them).
    var texts: [String: String] = [:]

    public init() {}

    /// The variable that names a configuration file for every command (`warden serve --config` and
    /// `warden config … --config` override it).
    public static let fileVariable = "WARDEN_CONFIG_FILE"

    /// Where a setting's value came from.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        case flag(String)
        case environment(String)
        case file(path: String, key: String)

        public var description: String {
            switch self {
            case .flag(let flag): "flag \(flag)"
            case .environment(let name): "environment \(name)"
            case .file(let path, let key): "file \(path) (\(key))"
            }
        }
    }

    /// How many password hashes run at once, and how many may wait.
    public struct PasswordHashing: Sendable {
        /// Half the processors by default, so a login storm leaves the other half to the rest of the API.
        public var threads = PasswordHasher.defaultThreadCount
        /// Hashes that may wait for a thread before `warden serve` refuses more with 503 `busy`.
        public var queue: Int?
        /// Refuse hashes past the queue (`warden serve`); the other commands wait instead.
        public var sheds = false

        public var queueLimit: Int? { sheds ? (queue ?? 4 * threads) : nil }
    }

    /// Where and how spans are exported (`WARDEN_OTEL_*`).
    public struct Traces: Sendable, Equatable {
        /// The OTLP/HTTP traces URL: the collector's address with `/v1/traces` added when it had no path.
        public var endpoint: String
        /// `service.name` of every span's resource.
        public var serviceName = "warden"
        /// The share of new traces recorded (0–1); a caller's sampled `traceparent` decides for its own trace.
        public var sampleRatio = 1.0
    }

    /// SMS and email delivery.
    public struct Delivery: Sendable {
        public var smtpHost: String?
        public var smtpPort: Int?
        public var smtpSecurity = "starttls"
        public var smtpUsername: String?
        public var smtpPassword: String?
        public var from = "warden@localhost"
        public var smsAccountSID: String?
        public var smsAuthToken: String?
        public var smsFrom: String?
        public var smsBaseURL = "https://api.twilio.com"
        /// `on`, `off`, or nil for the default (on in the embedded setup without SMTP or SMS).
        public var devOutbox: Bool?
    }

    /// The SQLite file in the data directory.
    public var sqlitePath: String { dataDirectory + "/warden.db" }
    /// The embedded setup: SQLite, and a master key that may be generated.
    public var isEmbedded: Bool { databaseURL == nil }
}

/// Every problem found in a configuration, listed at once.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The setting (its variable name) or the file.
        public let setting: String
        /// Where the refused value came from, if it came from somewhere.
        public let source: WardenConfiguration.Source?
        /// What is wrong and what is allowed. Never the value of a secret.
        public let message: String

        public init(setting: String, source: WardenConfiguration.Source?, message: String) {
            self.setting = setting
            self.source = source
            self.message = message
        }

        public var description: String {
            "\(setting)\(source.map { " (from \($0))" } ?? ""): \(message)"
        }
    }

    public let problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String {
        let lines = problems.map { "  - \($0)" }.joined(separator: "\n")
        return "the configuration has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n\(lines)"
    }
}
