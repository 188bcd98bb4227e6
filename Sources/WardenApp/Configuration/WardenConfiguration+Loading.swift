import Configuration
import Foundation
import Logging
import SystemPackage
import WardenAccess
import WardenAuth
import WardenCore
import WardenCrypto
import WardenHTTP
import WardenMFA
import WardenSQL
import WardenSessions
import WardenTLS
import WardenWebAuthn
import Yams

#if canImport(Glibc)
import Glibc
#endif

extension WardenConfiguration {
    /// Reads the configuration: flags, then the environment, then the configuration file, then defaults.
    ///
    /// The original system's variables (``OriginalEnvironment``) stand in for the Warden variables they
    /// map to where those are unset; `notes` receives one line for each one set (never its value).
    ///
    /// - Parameters:
    ///   - flags: Values given on the command line, by variable name (`WARDEN_PORT`), with the flag that
    ///     gave each.
    ///   - environment: The process environment.
    ///   - file: A JSON or YAML file of settings (`--config`): nested keys (`server.port`) or, as before,
    ///     variable names at the top level.
    ///   - terminal: Whether standard error is a terminal (the default log format follows it).
    /// - Throws: ``ConfigurationError`` with every problem found.
    public static func load(
        flags: [String: (value: String, flag: String)] = [:], environment given: [String: String], file: String? = nil, terminal: Bool = false,
        notes: (String) -> Void = { _ in }
    ) async throws -> WardenConfiguration {
        for note in OriginalEnvironment.notes(for: given) { notes(note) }
        let environment = OriginalEnvironment.applyingFallbacks(to: given)
        var reader = try await SettingsReader(flags: flags, environment: environment, file: file)
        var configuration = WardenConfiguration()
        configuration.environment = environment
        configuration.read(&reader, terminal: terminal)
        let user = environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "uid\(getuid())"
        configuration.actor = "cli:\(user)"
        configuration.sources = reader.sources
        configuration.texts = reader.texts
        guard reader.problems.isEmpty else { throw ConfigurationError(problems: reader.problems) }
        return configuration
    }

    // One setting after another, in `Setting.all`'s order; each problem is recorded and reading goes on,
    // so that every problem is reported at once.
    private mutating func read(_ r: inout SettingsReader, terminal: Bool) {
        // Storage
        dataDirectory = r.text("WARDEN_DATA_DIR") ?? dataDirectory
        databaseURL = r.text("WARDEN_DATABASE_URL")
        if let url = databaseURL {
            if !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                r.problem("WARDEN_DATABASE_URL", "must be a postgres:// URL")
            } else {
                // A bad sslmode, or a certificate file that cannot be used, is found here, with the rest.
                do { try PostgresBackend.validate(url: url) } catch { r.problem("WARDEN_DATABASE_URL", "\(error)") }
            }
        }
        if let seconds = r.whole("WARDEN_DATABASE_WAIT_SECONDS", 1...60) { databaseWaitSeconds = seconds }
        redisURL = r.text("WARDEN_REDIS_URL")
        if let url = redisURL, !["redis://", "rediss://", "redis+cluster://", "rediss+cluster://"].contains(where: { url.lowercased().hasPrefix($0) }) {
            r.problem("WARDEN_REDIS_URL", "must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL")
        }
        // Keys
        if let key = r.text("WARDEN_MASTER_KEY") { masterKeySettings[MasterKey.environmentVariable] = key }
        if let path = r.secretFiles["WARDEN_MASTER_KEY"] {
            // The master key keeps its own file rules (mode 0600 or stricter), applied when it is read.
            masterKeySettings = [MasterKey.fileEnvironmentVariable: path]
        }
        let days = r.number("WARDEN_KEY_ROTATION_DAYS", 0...3650, excludingLower: true) ?? 30
        cipher.policy.rotationPeriod = days * 86_400
        if let limit = r.whole("WARDEN_SEAL_LIMIT", 1...(1 << 32)) { cipher.policy.sealLimit = UInt64(limit) }
        if let maximum = r.whole("WARDEN_MAX_PLAINTEXT_BYTES", 1...(1 << 30)) { cipher.maxPlaintextBytes = maximum }
        var legacy: [String: String] = [:]
        for name in ["WARDEN_LEGACY_MASTER_KEY", "WARDEN_LEGACY_ENCRYPTION_KEY", "WARDEN_LEGACY_KEY_VERSIONS"] {
            if let value = r.text(name) { legacy[name] = value }
        }
        do { cipher.legacyKeys = try LegacyKeys.fromEnvironment(legacy) } catch {
            r.problem("WARDEN_LEGACY_MASTER_KEY", "the original system's keys could not be read: \(error.message)")
        }
        keyGrace = (r.number("WARDEN_KEY_GRACE_DAYS", 0...3650) ?? 2 * days) * 86_400
        let reload = r.whole("WARDEN_KEY_RELOAD_SECONDS", 1...3600) ?? 30
        keyRollout = KeyRollout.Policy(reloadInterval: TimeInterval(reload), propagationInterval: r.whole("WARDEN_KEY_PROPAGATION_SECONDS", 0...86_400).map(TimeInterval.init))
        // Accounts
        if let minimum = r.whole("WARDEN_PASSWORD_MIN_LENGTH", 8...128) { accounts.passwordPolicy = PasswordPolicy(minimumLength: minimum) }
        if let logN = r.whole("WARDEN_SCRYPT_LOG_N", 10...22) { scrypt.logN = logN }
        if let blockSize = r.whole("WARDEN_SCRYPT_R", 1...32) { scrypt.blockSize = blockSize }
        if let parallelism = r.whole("WARDEN_SCRYPT_P", 1...16) { scrypt.parallelism = parallelism }
        if !scrypt.isWithinBounds { r.problem("WARDEN_SCRYPT_LOG_N", "scrypt needs at most 1 GiB (128 × r × 2^logN × p bytes)") }
        if let threads = r.whole("WARDEN_PASSWORD_HASH_THREADS", 1...256) { passwordHashing.threads = threads }
        passwordHashing.queue = r.whole("WARDEN_PASSWORD_HASH_QUEUE", 0...100_000)
        if let seal = r.choice("WARDEN_SEAL_EMAILS", ["true": true, "false": false]) { accounts.emailsAreSensitive = seal }
        let lockThreshold = r.whole("WARDEN_LOGIN_LOCK_THRESHOLD", 3...100) ?? 10
        let lockMinutes = r.whole("WARDEN_LOGIN_LOCK_MINUTES", 1...1440) ?? 15
        let lockHours = r.whole("WARDEN_LOGIN_LOCK_MAX_HOURS", 1...720) ?? 24
        let ceiling = r.whole("WARDEN_LOGIN_FAILURE_CEILING", lockThreshold...100) ?? 100
        if lockHours * 60 < lockMinutes { r.problem("WARDEN_LOGIN_LOCK_MAX_HOURS", "must be at least the first lock (WARDEN_LOGIN_LOCK_MINUTES)") }
        accounts.loginPolicy = LoginPolicy(
            lockThreshold: lockThreshold, lockDuration: Double(lockMinutes) * 60, maximumLockDuration: Double(lockHours) * 3600, failureCeiling: ceiling)
        // Sessions
        if let minutes = r.whole("WARDEN_ACCESS_TOKEN_MINUTES", 1...60) { sessions.accessTokenLifetime = Double(minutes) * 60 }
        if let days = r.whole("WARDEN_REFRESH_TOKEN_DAYS", 1...365) { sessions.refreshTokenLifetime = Double(days) * 86_400 }
        if let idle = r.number("WARDEN_SESSION_IDLE_DAYS", 0...365, excludingLower: true) {
            if idle * 86_400 > sessions.refreshTokenLifetime {
                r.problem("WARDEN_SESSION_IDLE_DAYS", "must be at most the refresh-token lifetime (WARDEN_REFRESH_TOKEN_DAYS)")
            }
            sessions.idleTimeout = idle * 86_400
        } else {
            sessions.idleTimeout = min(sessions.idleTimeout, sessions.refreshTokenLifetime)
        }
        if let maximum = r.whole("WARDEN_MAX_SESSIONS", 1...1000) { sessions.maximumSessions = maximum }
        if let whenFull = r.choice("WARDEN_SESSIONS_WHEN_FULL", ["evict-oldest": SessionPolicy.WhenFull.evictOldest, "deny-new": .denyNew]) {
            sessions.whenFull = whenFull
        }
        // MFA
        if let issuer = r.text("WARDEN_MFA_ISSUER") {
            if issuer.count > 64 || issuer.contains(":") { r.problem("WARDEN_MFA_ISSUER", "must be 1–64 characters without a colon") }
            mfa.issuer = issuer
        }
        if let window = r.whole("WARDEN_TOTP_WINDOW", 0...2) { mfa.totpWindow = window }
        if let minutes = r.whole("WARDEN_MFA_CODE_MINUTES", 1...10) { mfa.codeLifetime = Double(minutes) * 60 }
        if let attempts = r.whole("WARDEN_MFA_CODE_ATTEMPTS", 1...10) { mfa.codeAttempts = attempts }
        if let threshold = r.whole("WARDEN_MFA_LOCK_THRESHOLD", 1...20) { mfa.lockThreshold = threshold }
        if let minutes = r.whole("WARDEN_MFA_LOCK_MINUTES", 1...1440) { mfa.lockDuration = Double(minutes) * 60 }
        if let stop = r.whole("WARDEN_MFA_HARD_STOP", mfa.lockThreshold...100) { mfa.hardStop = stop }
        if let minutes = r.whole("WARDEN_MFA_RECENT_MINUTES", 1...60) { mfa.recentAuthentication = Double(minutes) * 60 }
        if let count = r.whole("WARDEN_BACKUP_CODE_COUNT", 5...20) { mfa.backupCodeCount = count }
        // Server
        server.host = r.text("WARDEN_HOST") ?? server.host
        if let port = r.whole("WARDEN_PORT", 0...65_535) { server.port = port }
        if let registration = r.choice("WARDEN_REGISTRATION", ["open": ServerConfiguration.Registration.open, "invite": .invite, "admin": .admin]) {
            server.registration = registration
        }
        server.inviteCodes = r.list("WARDEN_INVITE_CODES")
        if server.registration == .invite, server.inviteCodes.isEmpty { r.problem("WARDEN_INVITE_CODES", "invite registration needs at least one code") }
        server.trustedProxies = r.list("WARDEN_TRUSTED_PROXIES")
        server.corsOrigins = r.list("WARDEN_CORS_ORIGINS")
        if server.corsOrigins.contains("*") { r.problem("WARDEN_CORS_ORIGINS", "origins must be listed; * is not allowed (responses carry credentials)") }
        if let compatibility = r.choice("WARDEN_API_COMPATIBILITY", ["warden": ServerConfiguration.APICompatibility.warden, "original": .original]) {
            server.apiCompatibility = compatibility
        }
        let metricsAddresses = r.list("WARDEN_METRICS_ADDRESSES")
        if !metricsAddresses.isEmpty { server.metricsAddresses = metricsAddresses }
        if let seconds = r.whole("WARDEN_IDLE_TIMEOUT_SECONDS", 1...3600) { server.idleTimeout = .seconds(seconds) }
        if let seconds = r.whole("WARDEN_HEADER_TIMEOUT_SECONDS", 1...3600) { server.headerTimeout = .seconds(seconds) }
        if let seconds = r.whole("WARDEN_BODY_TIMEOUT_SECONDS", 1...3600) { server.bodyTimeout = .seconds(seconds) }
        if let rate = r.whole("WARDEN_BODY_MIN_BYTES_PER_SECOND", 0...(1 << 20)) { server.bodyMinimumRate = rate }
        if let seconds = r.whole("WARDEN_BODY_RATE_GRACE_SECONDS", 1...3600) { server.bodyRateGrace = .seconds(seconds) }
        if let seconds = r.whole("WARDEN_RESPONSE_TIMEOUT_SECONDS", 1...3600) { server.responseTimeout = .seconds(seconds) }
        if let seconds = r.whole("WARDEN_SHUTDOWN_DRAIN_SECONDS", 0...20) { server.shutdownDrain = .seconds(seconds) }
        if let seconds = r.whole("WARDEN_SHUTDOWN_GRACE_SECONDS", 1...20) { server.shutdownGrace = .seconds(seconds) }
        // `warden serve`'s watchdog ends the process 30 s after SIGTERM; the sequence keeps 5 s for the stores.
        if server.shutdownDrain + server.shutdownGrace > .seconds(25) {
            r.problem("WARDEN_SHUTDOWN_GRACE_SECONDS", "the drain and grace periods together must be at most 25 s (the shutdown watchdog ends the process at 30 s)")
        }
        _ = r.choice("WARDEN_EXECUTOR", ["nio": true, "swift": false])
        // Limits
        if let limit = r.whole("WARDEN_RATE_LIMIT_PER_MINUTE", 1...1_000_000) { server.addressLimit = RateLimit(limit: limit, window: 60) }
        if let limit = r.whole("WARDEN_AUTH_RATE_LIMIT_PER_MINUTE", 1...1_000_000) { server.authAddressLimit = RateLimit(limit: limit, window: 60) }
        if let limit = r.whole("WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE", 1...1_000_000) { server.accountLoginLimit = RateLimit(limit: limit, window: 60) }
        if let bytes = r.whole("WARDEN_MAX_BODY_BYTES", 1024...(64 << 20)) { server.maxBodyBytes = bytes }
        if let depth = r.whole("WARDEN_MAX_JSON_DEPTH", 4...128) { server.maxJSONDepth = depth }
        if let batch = r.whole("WARDEN_MAX_BATCH", 1...1000) { server.maxBatch = batch }
        // TLS
        if let tls = r.switchValue("WARDEN_TLS") { server.tls = tls }
        let certificate = r.text("WARDEN_TLS_CERT")
        let key = r.text("WARDEN_TLS_KEY")
        switch (certificate, key) {
        case (let certificate?, let key?): tlsFiles = (certificate, key)
        case (nil, nil): tlsFiles = nil
        case (nil, _?): r.problem("WARDEN_TLS_CERT", "a key was given without its certificate (set both, or neither)")
        case (_?, nil): r.problem("WARDEN_TLS_KEY", "a certificate was given without its key (set both, or neither)")
        }
        if let minimum = r.choice("WARDEN_TLS_MIN", ["1.2": "TLSv1.2", "1.3": "TLSv1.3"]) { server.tlsMinimumVersion = minimum }
        tlsSignsOffLoop = r.switchValue("WARDEN_TLS_SIGN_OFF_LOOP") ?? true
        if let seconds = r.whole("WARDEN_TLS_RELOAD_SECONDS", 1...86_400) { tlsReloadSeconds = seconds }
        // HSTS: TLSSettings' policy (one year, no subdomains), unless configured.
        var hsts = TLSSettings(certificatePath: "", keyPath: "").strictTransportSecurity ?? StrictTransportSecurity()
        if let seconds = r.whole("WARDEN_HSTS_MAX_AGE", 0...63_072_000) { hsts.maxAge = seconds }
        if let subdomains = r.switchValue("WARDEN_HSTS_INCLUDE_SUBDOMAINS") { hsts.includeSubdomains = subdomains }
        server.strictTransportSecurity = hsts.headerValue
        // Passkeys
        relyingParty = Self.relyingParty(id: r.text("WARDEN_WEBAUTHN_RP_ID"), origins: r.list("WARDEN_WEBAUTHN_ORIGINS"), server: server, &r)
        // Delivery
        delivery.smtpHost = r.text("WARDEN_SMTP_HOST")
        delivery.smtpPort = r.whole("WARDEN_SMTP_PORT", 1...65_535)
        if let security = r.choice("WARDEN_SMTP_SECURITY", ["starttls": "starttls", "tls": "tls", "none": "none"]) { delivery.smtpSecurity = security }
        delivery.smtpUsername = r.text("WARDEN_SMTP_USERNAME")
        delivery.smtpPassword = r.text("WARDEN_SMTP_PASSWORD")
        delivery.from = r.text("WARDEN_SMTP_FROM") ?? delivery.from
        delivery.smsAccountSID = r.text("WARDEN_SMS_ACCOUNT_SID")
        delivery.smsAuthToken = r.text("WARDEN_SMS_AUTH_TOKEN")
        delivery.smsFrom = r.text("WARDEN_SMS_FROM")
        let sms = [delivery.smsAccountSID, delivery.smsAuthToken, delivery.smsFrom].filter { $0 != nil }.count
        if sms != 0, sms != 3 { r.problem("WARDEN_SMS_ACCOUNT_SID", "SMS needs WARDEN_SMS_ACCOUNT_SID, WARDEN_SMS_AUTH_TOKEN and WARDEN_SMS_FROM together") }
        if let url = r.text("WARDEN_SMS_BASE_URL") {
            if !url.hasPrefix("https://"), !url.hasPrefix("http://127.0.0.1"), !url.hasPrefix("http://localhost") {
                r.problem("WARDEN_SMS_BASE_URL", "must be an https:// URL (http:// only on the loopback address)")
            }
            delivery.smsBaseURL = url
        }
        delivery.devOutbox = r.switchValue("WARDEN_DEV_OUTBOX")
        // Observability
        if let level = r.choice("WARDEN_LOG_LEVEL", Dictionary(uniqueKeysWithValues: Logger.Level.allCases.map { ($0.rawValue, $0) }), lowercased: true) {
            logLevel = level
        }
        logFormat = r.choice("WARDEN_LOG_FORMAT", Dictionary(uniqueKeysWithValues: LogFormat.allCases.map { ($0.rawValue, $0) })) ?? (terminal ? .text : .json)
        if let every = r.whole("WARDEN_ACCESS_LOG_SAMPLE", 1...1_000_000) { server.accessLogSampling = every }
        if let text = r.text("WARDEN_OTEL_ENDPOINT") {
            if var url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil
            {
                if url.path.isEmpty || url.path == "/" { url.path = "/v1/traces" }
                traces = Traces(endpoint: url.string ?? text)
            } else {
                r.problem("WARDEN_OTEL_ENDPOINT", "must be an http or https URL of an OTLP/HTTP collector, such as http://localhost:4318")
            }
        }
        if let name = r.text("WARDEN_OTEL_SERVICE_NAME") {
            if name.count > 128 || name.contains(where: \.isNewline) { r.problem("WARDEN_OTEL_SERVICE_NAME", "must be one line of at most 128 characters") }
            traces?.serviceName = name
        }
        if let ratio = r.number("WARDEN_OTEL_SAMPLE_RATIO", 0...1) { traces?.sampleRatio = ratio }
        // The policies' own checks, which the services would otherwise make at start.
        do { _ = try mfa.validated() } catch { r.problem("WARDEN_MFA_LOCK_THRESHOLD", "the MFA policy is out of range: \(error)") }
    }
}

extension WardenConfiguration {
    /// Reads every setting through `reader` (tests check that each declared setting is read).
    mutating func readForTesting(_ reader: inout SettingsReader) { read(&reader, terminal: false) }

    /// Passkeys' relying party: the configured ID (default `localhost`, or the host name served) and
    /// origins (default the served origin on that name); `off` turns passkeys off.
    fileprivate static func relyingParty(id configured: String?, origins configuredOrigins: [String], server: ServerConfiguration, _ r: inout SettingsReader) -> RelyingParty? {
        if configured == "off" { return nil }
        let isAddress = server.host.contains(":") || server.host.allSatisfy { $0.isNumber || $0 == "." }
        let id = configured ?? (isAddress || server.host == "localhost" ? "localhost" : server.host)
        guard !id.isEmpty, id.count <= 253, !id.contains("/"), !id.contains(":"), !(id.allSatisfy { $0.isNumber || $0 == "." }) else {
            r.problem("WARDEN_WEBAUTHN_RP_ID", "must be a domain name (not an address), such as example.org, or off")
            return nil
        }
        var origins = configuredOrigins
        for origin in origins where !(origin.hasPrefix("https://") || origin.hasPrefix("http://localhost")) || origin.hasSuffix("/") {
            r.problem("WARDEN_WEBAUTHN_ORIGINS", "lists origins like https://example.org (https, no path; http only for localhost), not \(origin)")
        }
        if origins.isEmpty {
            let port = server.port == 443 && server.tls ? "" : ":\(server.port)"
            origins = [(server.tls ? "https://" : "http://") + id + port]
        }
        return RelyingParty(id: id, name: "Warden", origins: Set(origins))
    }
}

/// Looks settings up in the providers, in order, and records each one's source and every problem.
struct SettingsReader {
    private let providers: [(provider: any ConfigProvider, source: (Setting, _ fileVariant: Bool) -> WardenConfiguration.Source)]
    private(set) var problems: [ConfigurationError.Problem] = []
    private(set) var sources: [String: WardenConfiguration.Source] = [:]
    private(set) var texts: [String: String] = [:]
    /// Secret settings given as a file: the file's path, by variable name.
    private(set) var secretFiles: [String: String] = [:]
    /// The settings read so far (a test checks that every declared one is).
    private(set) var read: Set<String> = []

    init(flags: [String: (value: String, flag: String)], environment: [String: String], file: String?) async throws {
        var providers: [(provider: any ConfigProvider, source: (Setting, Bool) -> WardenConfiguration.Source)] = []
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        var flagNames: [String: String] = [:]
        for (variable, given) in flags {
            guard let setting = Setting.named(variable) else { continue }
            flagValues[Self.key(setting.key)] = ConfigValue(.string(given.value), isSecret: setting.isSecret)
            flagNames[variable] = given.flag
        }
        providers.append((InMemoryProvider(name: "flags", values: flagValues), { setting, _ in .flag(flagNames[setting.environment] ?? setting.flag ?? "") }))
        // The environment under Warden's variable names: a file key maps to its variable.
        let secretNames = Set(Setting.all.filter(\.isSecret).flatMap { [$0.environment, $0.fileEnvironment!] })
        let variables = EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretNames))
        providers.append(
            (
                KeyMappingProvider(upstream: variables) { key in Self.variableKey(for: key) },
                { setting, fileVariant in
                    .environment(fileVariant ? setting.fileEnvironment! : setting.environment)
                }
            ))
        if let file {
            let path = FilePath(file)
            // The file's keys, then variable names at the top level (as configuration files were written before).
            func add<Provider: ConfigProvider>(_ provider: Provider) {
                providers.append((provider, { setting, fileVariant in .file(path: file, key: fileVariant ? setting.fileKey! : setting.key) }))
                providers.append(
                    (
                        KeyMappingProvider(upstream: provider) { key in Self.flatKey(for: key) },
                        { setting, fileVariant in
                            .file(path: file, key: fileVariant ? setting.fileEnvironment! : setting.environment)
                        }
                    ))
            }
            do {
                if file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                    add(try await FileProvider<YAMLSnapshot>(filePath: path))
                } else {
                    add(try await FileProvider<JSONSnapshot>(filePath: path))
                }
            } catch {
                throw ConfigurationError(problems: [.init(setting: file, source: nil, message: "is not a readable JSON or YAML file of settings")])
            }
            problems += Self.unknownKeys(in: file)
        }
        self.providers = providers
    }

    // MARK: Reading one setting

    /// The setting's text as set, or nil; a secret given as a file is read from it.
    mutating func text(_ variable: String) -> String? {
        guard let setting = Setting.named(variable) else { preconditionFailure("\(variable) is not declared in Setting.all") }
        read.insert(variable)
        for (provider, source) in providers {
            let direct = lookup(setting.key, in: provider, setting: setting)
            let viaFile = setting.isSecret ? lookup(setting.fileKey!, in: provider, setting: setting) : nil
            if direct != nil, viaFile != nil {
                problem(variable, "set only one of \(setting.environment) and \(setting.fileEnvironment!)", source: source(setting, false))
                return nil
            }
            if let direct {
                let origin = source(setting, false)
                if case .file = origin, !setting.fileAllowed {
                    let instead = setting.fileEnvironment.map { "set \($0) instead" } ?? "set it in the environment"
                    problem(variable, "is refused in a configuration file; \(instead)", source: origin)
                    return nil
                }
                sources[variable] = origin
                texts[variable] = direct
                return direct.isEmpty ? nil : direct
            }
            if let path = viaFile, !path.isEmpty {
                let origin = source(setting, true)
                sources[variable] = origin
                secretFiles[variable] = path
                if variable == "WARDEN_MASTER_KEY" {
                    texts[variable] = "(file \(path))"
                    return nil
                }
                do {
                    let bytes = try SecureFile.readRegularFile(path, what: "the file of \(variable)", maximumSize: 64 * 1024, ownerOnly: true)
                    let value = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines)
                    texts[variable] = value
                    return value.isEmpty ? nil : value
                } catch {
                    problem(variable, "its file could not be used: \(error.message)", source: origin)
                    return nil
                }
            }
        }
        return nil
    }

    private mutating func lookup(_ key: String, in provider: any ConfigProvider, setting: Setting) -> String? {
        let absolute = Self.key(key)
        for type in [ConfigType.string, .int, .double, .bool, .stringArray] {
            guard let result = try? provider.value(forKey: absolute, type: type) else { continue }
            guard let value = result.value else { return nil }
            switch value.content {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .double(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
            case .bool(let flag): return flag ? "true" : "false"
            case .stringArray(let items): return items.joined(separator: ",")
            default: return nil
            }
        }
        return nil
    }

    mutating func problem(_ variable: String, _ message: String, source: WardenConfiguration.Source? = nil) {
        problems.append(.init(setting: variable, source: source ?? sources[variable], message: message))
    }

    /// A comma-separated list (or a list in a file).
    mutating func list(_ variable: String) -> [String] {
        text(variable)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
    }

    /// A whole number within `range`.
    mutating func whole(_ variable: String, _ range: ClosedRange<Int>) -> Int? {
        guard let text = text(variable) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            problem(variable, "must be a whole number, \(range.lowerBound)–\(range.upperBound)")
            return nil
        }
        return value
    }

    /// A number within `range` (above its lower bound if `excludingLower`).
    mutating func number(_ variable: String, _ range: ClosedRange<Double>, excludingLower: Bool = false) -> Double? {
        guard let text = text(variable) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value), !(excludingLower && value == range.lowerBound) else {
            let lower = excludingLower ? "more than \(Self.format(range.lowerBound))" : "at least \(Self.format(range.lowerBound))"
            problem(variable, "must be a number, \(lower) and at most \(Self.format(range.upperBound))")
            return nil
        }
        return value
    }

    /// One of the listed words.
    mutating func choice<T>(_ variable: String, _ choices: [String: T], lowercased: Bool = false) -> T? {
        guard let text = text(variable) else { return nil }
        guard let value = choices[lowercased ? text.lowercased() : text] else {
            problem(variable, "must be \(Self.alternatives(choices.keys.sorted()))")
            return nil
        }
        return value
    }

    /// `on` or `off` (`true` or `false` in a file).
    mutating func switchValue(_ variable: String) -> Bool? {
        choice(variable, ["on": true, "off": false, "true": true, "false": false])
    }

    // MARK: Keys

    static func key(_ dotted: String) -> AbsoluteConfigKey { AbsoluteConfigKey(dotted.split(separator: ".").map(String.init)) }

    /// The file key's variable, as key components the environment provider encodes back to its name.
    static func variableKey(for key: AbsoluteConfigKey) -> AbsoluteConfigKey {
        guard let variable = variables[key.components.joined(separator: ".")] else { return AbsoluteConfigKey(["warden", "undeclared"] + key.components) }
        return AbsoluteConfigKey(variable.lowercased().split(separator: "_").map(String.init))
    }

    /// The file key's variable as one top-level key (`{"WARDEN_PORT": 9443}`).
    static func flatKey(for key: AbsoluteConfigKey) -> AbsoluteConfigKey {
        AbsoluteConfigKey([variables[key.components.joined(separator: ".")] ?? "undeclared"])
    }

    /// Variable names by file key, the secrets' file variants included.
    static let variables: [String: String] = {
        var names: [String: String] = [:]
        for setting in Setting.all {
            names[setting.key] = setting.environment
            if let fileKey = setting.fileKey, let fileVariable = setting.fileEnvironment { names[fileKey] = fileVariable }
        }
        return names
    }()

    /// Keys in the file that are not settings: each one is a problem (a misspelt setting must not be
    /// ignored silently).
    static func unknownKeys(in path: String) -> [ConfigurationError.Problem] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let object: Any?
        if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            object = try? Yams.load(yaml: String(decoding: data, as: UTF8.self))
        } else {
            object = try? JSONSerialization.jsonObject(with: data)
        }
        guard let dictionary = object as? [String: Any] else {
            return [.init(setting: path, source: nil, message: "must hold one object (a mapping) of settings")]
        }
        var keys: [String] = []
        func walk(_ value: Any, _ prefix: String) {
            if let nested = value as? [String: Any], variables[prefix] == nil {
                for (key, inner) in nested { walk(inner, prefix.isEmpty ? key : prefix + "." + key) }
            } else {
                keys.append(prefix)
            }
        }
        walk(dictionary, "")
        let flat = Set(Setting.all.flatMap { [$0.environment, $0.fileEnvironment].compactMap { $0 } })
        return keys.sorted().compactMap { key in
            if variables[key] != nil || flat.contains(key) { return nil }
            return .init(setting: path, source: nil, message: "\(key) is not a setting (see docs/configuration.md)")
        }
    }

    private static func alternatives(_ words: [String]) -> String {
        words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }
}
