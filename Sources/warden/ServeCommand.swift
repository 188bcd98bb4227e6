import ArgumentParser
import Foundation
import Hummingbird
import Logging
import WardenAccess
import WardenAuth
import WardenCore
import WardenCrypto
import WardenDelivery
import WardenHTTP
import WardenMFA
import WardenMigrate
import WardenRedis
import WardenSQL
import WardenSessions
import WardenTLS
import WardenWebAuthn
import WardenAudit
import NIOSSL
import ServiceLifecycle

/// `warden serve`: the HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API and the web console (TLS 1.3 by default).",
        discussion: """
            Settings come from flags, then environment variables, then a JSON file given with --config (whose keys \
            are the environment variable names), then defaults; docs/configuration.md lists them all. With no \
            database URL this is the embedded default: SQLite and a generated master key and TLS certificate in \
            the data directory, and codes for SMS and email written to <data dir>/outbox.jsonl.
            """)

    @OptionGroup var options: KeyringOptions
    @Option(help: ArgumentHelp("A JSON file of settings (keys are the WARDEN_* variable names).", valueName: "path")) var config: String?
    @Option(help: ArgumentHelp("Address to listen on (env WARDEN_HOST, default 127.0.0.1).", valueName: "address")) var host: String?
    @Option(help: ArgumentHelp("Port (env WARDEN_PORT, default 8443).", valueName: "port")) var port: Int?
    @Option(help: ArgumentHelp("PEM certificate chain (env WARDEN_TLS_CERT; default: generated in the data directory).", valueName: "path")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key, mode 0600 (env WARDEN_TLS_KEY).", valueName: "path")) var tlsKey: String?
    @Flag(help: "Serve plain HTTP (only behind a TLS-terminating proxy; env WARDEN_TLS=off).") var noTLS = false
    @Flag(help: "Also accept TLS 1.2 (env WARDEN_TLS_MIN=1.2).") var allowTLS12 = false
    @Option(help: ArgumentHelp("Redis for sessions and rate limits (env WARDEN_REDIS_URL; default: the database).", valueName: "url")) var redisURL: String?
    @Option(help: ArgumentHelp("open, invite or admin (env WARDEN_REGISTRATION, default admin).", valueName: "policy")) var registration: String?
    @Option(help: ArgumentHelp("A proxy whose X-Forwarded-For is believed: address or CIDR block, IPv4 or IPv6 (repeatable; env WARDEN_TRUSTED_PROXIES, comma-separated).", valueName: "address")) var trustedProxy: [String] = []
    @Option(help: ArgumentHelp("A browser origin allowed by CORS (repeatable; env WARDEN_CORS_ORIGINS).", valueName: "origin")) var corsOrigin: [String] = []
    @Option(help: ArgumentHelp("json or text (env WARDEN_LOG_FORMAT; default text when standard error is a terminal, json otherwise).", valueName: "format")) var logFormat: String?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        if let config {
            // The file is the weakest source: the environment and flags override it.
            for (key, value) in try Self.configFile(config) where environment[key] == nil { environment[key] = value }
        }
        // Logging first, so that warnings about the settings below are log lines in the chosen format.
        let level = try Self.logLevel(environment)
        let format = try Self.logFormat(flag: logFormat, environment, terminal: isatty(2) == 1)
        // Log lines go to standard error from a thread of their own: a request never waits for the output.
        let logWriter = LogWriter()
        LoggingSystem.bootstrap({ label, provider in
            BufferedLogHandler(label: label, writer: logWriter, level: level, format: format, metadataProvider: provider)
        }, metadataProvider: RequestLogMetadata.provider)
        defer { logWriter.stop() }
        let logger = Logger(label: "warden")
        Terminal.logger = logger
        defer { Terminal.logger = nil }

        var settings = try options.settings(environment: environment)
        // With the original system's variables applied where they stand in for Warden's (TLS_CERT_FILE…).
        environment = settings.environment
        settings.configuration.policy.sealReservation = FieldCipher.Configuration().policy.sealReservation
        settings.passwordHashing.sheds = true
        let server = try serverConfiguration(environment)
        let traces = try Self.traces(environment)

        if let redisURL { settings.redisURL = redisURL }
        // Before the stores open: they take the process's metrics factory when they are made.
        let metrics = MetricsBackend.bootstrap()
        // Spans only with a collector to send them to: otherwise no tracer, and no span is ever made.
        let exporter = try traces.map { try TracingBackend.bootstrap($0, logger: logger) }
        let runtime = try await settings.open()
        do {
            let sessions = runtime.sessions
            let keys = runtime.keys
            try await keys.load()
            let messenger = try Self.messenger(environment, dataDirectory: settings.dataDirectory, embedded: settings.databaseURL == nil)
            let accounts = runtime.accounts
            let notifier = messenger.email.map { email in
                EmailNotifier(email: email, from: messenger.from) { id in try? await accounts.account(id: id)?.email }
            }
            let mfa = try MFAService(
                store: runtime.store, cipher: runtime.cipher, hashKey: runtime.masterKey.secretHashKey, limiter: runtime.limiter,
                messenger: messenger.channels.isEmpty ? nil : messenger, notifier: notifier, relyingParty: try Self.relyingParty(environment, server: server))
            let store = runtime.store
            let databaseHealthy: @Sendable () async -> Bool = {
                do { _ = try await store.head(); return true } catch { return false }
            }
            var redisHealthy: (@Sendable () async -> Bool)?
            if let redis = runtime.redis {
                redisHealthy = { do { _ = try await redis.send("PING"); return true } catch { return false } }
            }
            var services = WardenServices(
                security: runtime.security(mfa: mfa, policy: server.securityPolicy), limiter: runtime.limiter, auditReader: runtime.store, databaseHealthy: databaseHealthy,
                redisHealthy: redisHealthy, channels: messenger.channels)
            services.consoleKey = runtime.masterKey.consoleKey
            let chain = runtime.store.auditChain
            services.auditVerifier = { try await AuditVerifier(chain: chain).verify(store) }

            let tls: TLSConfiguration? = try server.tls ? tlsConfiguration(environment, server: server, dataDirectory: settings.dataDirectory) : nil
            let api = WardenAPI(services: services, configuration: server, metrics: metrics)
            let cipher = runtime.cipher
            let grace = settings.keyGrace
            let graceContext = AuditContext(actor: "system")
            // Background work, as services of the application's group: started with it, cancelled and
            // awaited at shutdown, failures logged.
            var background: [any Service] = [
                // The keyring: versions added or retired by another node or the CLI, and rotation when due.
                PeriodicService(name: "keyring refresh and rotation", every: .seconds(60), logger: logger) {
                    try await cipher.refresh()
                    if cipher.configuration.rotatesWhenDue { try await cipher.rotateIfDue() }
                },
                // A restarted or emptied session store gets the revocation ledger replayed.
                PeriodicService(name: "revocation ledger replay", every: .seconds(5), logger: logger) { try await sessions.replayIfRestarted() },
                // Key versions whose grace period is over and that no counted column uses any more close.
                PeriodicService(name: "key grace closing", every: .seconds(600), waitFirst: false, logger: logger) {
                    _ = try await KeyAccounting.closeGraceIfDue(cipher: cipher, store: store, grace: grace, context: graceContext)
                },
                PeriodicService(name: "signing keys refresh", every: .seconds(300), logger: logger) { try await keys.refresh() },
                PeriodicService(name: "rate-limit pruning", every: .seconds(300), logger: logger) { try await store.pruneRateLimits(now: Date()) },
            ]
            if let exporter { background.append(exporter) }
            let scheme = tls == nil ? "http" : "https"
            let app = try WardenServer.application(api: api, tls: tls, logger: logger, services: background) { channel in
                let bound = channel.localAddress?.port.map(String.init) ?? String(server.port)
                FileHandle.standardOutput.write(Data("warden: listening on \(scheme)://\(server.host):\(bound)\n".utf8))
                let console = ["127.0.0.1", "::1", "0.0.0.0", "::"].contains(server.host) ? "localhost" : server.host
                FileHandle.standardOutput.write(Data("warden: web console at \(scheme)://\(console):\(bound)/console\n".utf8))
            }
            let watchdog = ShutdownWatchdog(limit: 30)
            try await app.runService()
            withExtendedLifetime(watchdog) {}
        } catch {
            await Self.close(runtime)
            throw error
        }
        await Self.close(runtime)
    }

    /// Closes the database and keyring, waiting at most 10 s: the process exits either way.
    private static func close(_ runtime: Runtime) async {
        if await !finishes(within: .seconds(10), { await runtime.close() }) {
            Terminal.warn("closing the database took longer than 10 s; exiting without waiting for it")
        }
    }

    private func serverConfiguration(_ environment: [String: String]) throws -> ServerConfiguration {
        var server = ServerConfiguration()
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func list(_ name: String) -> [String] { value(name)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? [] }
        server.host = host ?? value("WARDEN_HOST") ?? server.host
        if let port = try port ?? value("WARDEN_PORT").map({ text in
            guard let number = Int(text) else { throw ValidationError("WARDEN_PORT must be a number") }
            return number
        }) {
            guard (0...65_535).contains(port) else { throw ValidationError("the port must be 0–65535") }
            server.port = port
        }
        if let tls = value("WARDEN_TLS") {
            guard ["on", "off"].contains(tls) else { throw ValidationError("WARDEN_TLS must be on or off") }
            server.tls = tls == "on"
        }
        if noTLS { server.tls = false }
        // HSTS: TLSSettings' policy (one year, no subdomains), as docs/tls.md describes, unless configured.
        var hsts = TLSSettings(certificatePath: "", keyPath: "").strictTransportSecurity ?? StrictTransportSecurity()
        if let text = value("WARDEN_HSTS_MAX_AGE") {
            guard let seconds = Int(text), (0...63_072_000).contains(seconds) else {
                throw ValidationError("WARDEN_HSTS_MAX_AGE must be a whole number of seconds, 0–63072000 (0 tells browsers to forget the policy)")
            }
            hsts.maxAge = seconds
        }
        if let text = value("WARDEN_HSTS_INCLUDE_SUBDOMAINS") {
            guard ["on", "off"].contains(text) else { throw ValidationError("WARDEN_HSTS_INCLUDE_SUBDOMAINS must be on or off") }
            hsts.includeSubdomains = text == "on"
        }
        server.strictTransportSecurity = hsts.headerValue
        // The one decision on the oldest TLS version: the listener and `/security/status` both read it.
        if let minimum = value("WARDEN_TLS_MIN") {
            guard ["1.2", "1.3"].contains(minimum) else { throw ValidationError("WARDEN_TLS_MIN must be 1.2 or 1.3") }
            if minimum == "1.2" { server.tlsMinimumVersion = "TLSv1.2" }
        }
        if allowTLS12 { server.tlsMinimumVersion = "TLSv1.2" }
        if let policy = registration ?? value("WARDEN_REGISTRATION") {
            guard let parsed = ServerConfiguration.Registration(rawValue: policy) else { throw ValidationError("registration is open, invite or admin") }
            server.registration = parsed
        }
        if let compatibility = value("WARDEN_API_COMPATIBILITY") {
            guard let parsed = ServerConfiguration.APICompatibility(rawValue: compatibility) else {
                throw ValidationError("WARDEN_API_COMPATIBILITY is warden or original")
            }
            server.apiCompatibility = parsed
        }
        server.inviteCodes = list("WARDEN_INVITE_CODES")
        if server.registration == .invite, server.inviteCodes.isEmpty { throw ValidationError("invite registration needs WARDEN_INVITE_CODES") }
        server.trustedProxies = trustedProxy.isEmpty ? list("WARDEN_TRUSTED_PROXIES") : trustedProxy
        server.corsOrigins = corsOrigin.isEmpty ? list("WARDEN_CORS_ORIGINS") : corsOrigin
        guard !server.corsOrigins.contains("*") else { throw ValidationError("CORS origins must be listed; `*` is not allowed (responses carry credentials)") }
        let metrics = list("WARDEN_METRICS_ADDRESSES")
        if !metrics.isEmpty { server.metricsAddresses = metrics }
        if let limit = value("WARDEN_RATE_LIMIT_PER_MINUTE").flatMap(Int.init) { server.addressLimit = RateLimit(limit: limit, window: 60) }
        if let limit = value("WARDEN_AUTH_RATE_LIMIT_PER_MINUTE").flatMap(Int.init) { server.authAddressLimit = RateLimit(limit: limit, window: 60) }
        if let limit = value("WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE").flatMap(Int.init) { server.accountLoginLimit = RateLimit(limit: limit, window: 60) }
        if let text = value("WARDEN_ACCESS_LOG_SAMPLE") {
            guard let every = Int(text), (1...1_000_000).contains(every) else { throw ValidationError("WARDEN_ACCESS_LOG_SAMPLE must be a whole number, 1–1000000") }
            server.accessLogSampling = every
        }
        for (name, path) in [("WARDEN_IDLE_TIMEOUT_SECONDS", \ServerConfiguration.idleTimeout), ("WARDEN_HEADER_TIMEOUT_SECONDS", \ServerConfiguration.headerTimeout)] {
            guard let text = value(name) else { continue }
            guard let seconds = Int(text), (1...3_600).contains(seconds) else { throw ValidationError("\(name) must be a whole number of seconds, 1–3600") }
            server[keyPath: path] = .seconds(seconds)
        }
        return server
    }

    /// Passkeys' relying party: `WARDEN_WEBAUTHN_RP_ID` (default `localhost`, or the host name served) and
    /// `WARDEN_WEBAUTHN_ORIGINS` (comma-separated; default the served origin on that name). `off` turns
    /// passkeys off.
    static func relyingParty(_ environment: [String: String], server: ServerConfiguration) throws -> RelyingParty? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if value("WARDEN_WEBAUTHN_RP_ID") == "off" { return nil }
        let isAddress = server.host.contains(":") || server.host.allSatisfy { $0.isNumber || $0 == "." }
        let id = value("WARDEN_WEBAUTHN_RP_ID") ?? (isAddress || server.host == "localhost" ? "localhost" : server.host)
        guard !id.isEmpty, id.count <= 253, !id.contains("/"), !id.contains(":"), !(id.allSatisfy { $0.isNumber || $0 == "." }) else {
            throw ValidationError("WARDEN_WEBAUTHN_RP_ID must be a domain name (not an address), such as example.org")
        }
        var origins = value("WARDEN_WEBAUTHN_ORIGINS")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
        for origin in origins where !(origin.hasPrefix("https://") || origin.hasPrefix("http://localhost")) || origin.hasSuffix("/") {
            throw ValidationError("WARDEN_WEBAUTHN_ORIGINS lists origins like https://example.org (https, no path; http only for localhost), not \(origin)")
        }
        if origins.isEmpty {
            let port = server.port == 443 && server.tls ? "" : ":\(server.port)"
            origins = [(server.tls ? "https://" : "http://") + id + port]
        }
        return RelyingParty(id: id, name: "Warden", origins: Set(origins))
    }

    /// `WARDEN_LOG_LEVEL`: trace, debug, info (default), notice, warning, error or critical. Access-log
    /// lines are `info`.
    static func logLevel(_ environment: [String: String]) throws -> Logger.Level {
        guard let text = environment["WARDEN_LOG_LEVEL"], !text.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ValidationError("WARDEN_LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }

    /// `--log-format` or `WARDEN_LOG_FORMAT`: `text` (for people) or `json` (one object per line); by
    /// default `text` when standard error is a terminal and `json` otherwise (a service manager, a container,
    /// a pipe to a collector).
    static func logFormat(flag: String?, _ environment: [String: String], terminal: Bool) throws -> LogFormat {
        let allowed = LogFormat.allCases.map(\.rawValue).joined(separator: " or ")
        if let flag {
            guard let format = LogFormat(rawValue: flag) else { throw ValidationError("--log-format must be \(allowed)") }
            return format
        }
        if let text = environment["WARDEN_LOG_FORMAT"], !text.isEmpty {
            guard let format = LogFormat(rawValue: text) else { throw ValidationError("WARDEN_LOG_FORMAT must be \(allowed)") }
            return format
        }
        return terminal ? .text : .json
    }

    private func tlsConfiguration(_ environment: [String: String], server: ServerConfiguration, dataDirectory: String) throws -> TLSConfiguration {
        let host = server.host
        let minimum: TLSSettings.MinimumVersion = server.tlsMinimumVersion == "TLSv1.2" ? .tls12 : .tls13
        let offLoop = environment["WARDEN_TLS_SIGN_OFF_LOOP"] ?? "on"
        guard ["on", "off"].contains(offLoop) else { throw ValidationError("WARDEN_TLS_SIGN_OFF_LOOP must be on or off") }
        func settings(_ certificate: String, _ key: String) -> TLSSettings {
            var settings = TLSSettings(certificatePath: certificate, keyPath: key, minimumVersion: minimum)
            settings.signsOffEventLoop = offLoop == "on"
            return settings
        }
        if let certificate = tlsCert ?? environment["WARDEN_TLS_CERT"], let key = tlsKey ?? environment["WARDEN_TLS_KEY"] {
            let configuration = try settings(certificate, key).makeServerConfiguration()
            for warning in try CertificateInspection.read(certificatePath: certificate).warnings(at: Date()) { Terminal.warn(warning) }
            return configuration
        }
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let pair = try CertificateGenerator.ensure(
            directory: dataDirectory, dnsNames: ["localhost"] + (isAddress || host == "localhost" ? [] : [host]),
            ipAddresses: ["127.0.0.1", "::1"] + (isAddress && !["127.0.0.1", "::1", "0.0.0.0", "::"].contains(host) ? [host] : []))
        if pair.renewed {
            Terminal.warn("renewed the self-signed TLS certificate at \(pair.certificatePath) before it expired; clients that pinned the old one need the new one")
        } else if pair.generated {
            Terminal.warn("generated a self-signed TLS certificate at \(pair.certificatePath) (key mode 0600); use a real certificate in production (--tls-cert/--tls-key)")
        }
        for warning in pair.warnings { Terminal.warn(warning) }
        return try settings(pair.certificatePath, pair.keyPath).makeServerConfiguration()
    }

    /// Email and SMS senders from the environment; in the embedded default without either, a development
    /// sender writing to the data directory.
    static func messenger(_ environment: [String: String], dataDirectory: String, embedded: Bool) throws -> DeliveryMessenger {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let from = value("WARDEN_SMTP_FROM") ?? "warden@localhost"
        var email: (any EmailSender)?
        var sms: (any SMSSender)?
        if let host = value("WARDEN_SMTP_HOST") {
            let security: SMTPConfiguration.Security = switch value("WARDEN_SMTP_SECURITY") ?? "starttls" {
            case "tls": .implicitTLS
            case "none": .none
            default: .startTLS
            }
            email = SMTPSender(configuration: SMTPConfiguration(
                host: host, port: value("WARDEN_SMTP_PORT").flatMap(Int.init), security: security,
                username: value("WARDEN_SMTP_USERNAME"), password: value("WARDEN_SMTP_PASSWORD")))
        }
        if let sid = value("WARDEN_SMS_ACCOUNT_SID"), let token = value("WARDEN_SMS_AUTH_TOKEN"), let number = value("WARDEN_SMS_FROM") {
            sms = HTTPSMSSender(configuration: HTTPSMSConfiguration(
                accountSID: sid, authToken: token, from: number, baseURL: value("WARDEN_SMS_BASE_URL") ?? "https://api.twilio.com"))
        }
        if value("WARDEN_DEV_OUTBOX") == "on" || (embedded && email == nil && sms == nil && value("WARDEN_DEV_OUTBOX") != "off") {
            let file = FileSender(directory: dataDirectory)
            Terminal.warn("SMS and email codes go to \(file.outboxPath) (development sender); configure WARDEN_SMTP_HOST and WARDEN_SMS_* for real delivery")
            email = email ?? file
            sms = sms ?? file
        }
        return DeliveryMessenger(email: email, sms: sms, from: from)
    }

    static func configFile(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ValidationError("\(path) is not a readable JSON object") }
        var values: [String: String] = [:]
        for (key, value) in object {
            guard key.hasPrefix("WARDEN_") else { throw ValidationError("\(path): unknown setting \(key) (keys are WARDEN_* variable names)") }
            guard key != "WARDEN_MASTER_KEY" else { throw ValidationError("\(path): put the master key in WARDEN_MASTER_KEY_FILE, not in the configuration file") }
            values[key] = "\(value)"
        }
        return values
    }
}

/// `warden certs generate`: a self-signed certificate for development or internal use.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certs", abstract: "TLS certificates.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a self-signed certificate and its key (mode 0600): RSA-4096, or ECDSA P-256 with --key-type ec-p256.")
        @Option(help: "DNS names for the subject alternative names (repeatable).") var dns: [String] = ["localhost"]
        @Option(help: "IP addresses for the subject alternative names (repeatable).") var ip: [String] = ["127.0.0.1", "::1"]
        @Option(help: "Certificate file.") var cert = "cert.pem"
        @Option(help: "Private key file.") var key = "key.pem"
        // `--key` already names the key file, so the kind of key has a flag of its own.
        @Option(help: ArgumentHelp("rsa-4096 (default) or ec-p256 (handshakes several times cheaper).", valueName: "type"), transform: Self.keyType)
        var keyType: CertificateKeyType = .rsa4096
        @Option(help: "Validity in days.") var days = 397
        @Flag(help: "Replace existing files.") var overwrite = false

        func run() throws {
            let generated = try CertificateGenerator.selfSigned(commonName: dns.first ?? "warden", dnsNames: dns, ipAddresses: ip, validity: Double(days) * 86_400, keyType: keyType)
            try CertificateGenerator.write(generated, certificatePath: cert, keyPath: key, overwrite: overwrite)
            print("wrote \(cert) and \(key) (mode 0600); SHA-256 fingerprint \(generated.sha256Fingerprint)")
        }

        static func keyType(_ text: String) throws -> CertificateKeyType {
            guard let type = CertificateKeyType(rawValue: text) else {
                throw ValidationError("unknown key type \(text); use \(CertificateKeyType.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return type
        }
    }
}

/// Ends the process if a graceful shutdown, once asked for by SIGTERM or SIGINT, has not finished within
/// `limit` seconds: a server that no longer serves must never linger because a connection or a store
/// hangs while closing.
final class ShutdownWatchdog {
    private let sources: [any DispatchSourceSignal]

    init(limit: Int) {
        sources = [SIGTERM, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(limit)) {
                    FileHandle.standardError.write(Data("warden: warning: shutdown did not finish within \(limit) s; exiting\n".utf8))
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }
}
