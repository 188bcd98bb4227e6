import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOSSL
import ServiceLifecycle
import UnixSignals
import WardenAccess
import WardenApp
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

/// `warden serve`: the HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API and the web console (TLS 1.3 by default).",
        discussion: """
            Settings come from flags, then environment variables, then a JSON or YAML file given with --config \
            (or WARDEN_CONFIG_FILE), then defaults; `warden config show` prints them and docs/configuration.md \
            lists them all. With no database URL this is the embedded default: SQLite and a generated master key \
            and TLS certificate in the data directory, and codes for SMS and email written to <data dir>/outbox.jsonl.
            """)

    @OptionGroup var options: KeyringOptions
    @Option(help: ArgumentHelp("A JSON or YAML file of settings (docs/configuration.md).", valueName: "path")) var config: String?
    @Option(help: ArgumentHelp("Address to listen on (env WARDEN_HOST, default 127.0.0.1).", valueName: "address")) var host: String?
    @Option(help: ArgumentHelp("Port (env WARDEN_PORT, default 8443).", valueName: "port")) var port: Int?
    @Option(help: ArgumentHelp("PEM certificate chain (env WARDEN_TLS_CERT; default: generated in the data directory).", valueName: "path")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key, mode 0600 (env WARDEN_TLS_KEY).", valueName: "path")) var tlsKey: String?
    @Flag(help: "Serve plain HTTP (only behind a TLS-terminating proxy; env WARDEN_TLS=off).") var noTLS = false
    @Flag(help: "Also accept TLS 1.2 (env WARDEN_TLS_MIN=1.2).") var allowTLS12 = false
    @Option(help: ArgumentHelp("Redis for sessions and rate limits (env WARDEN_REDIS_URL; default: the database).", valueName: "url")) var redisURL: String?
    @Option(help: ArgumentHelp("open, invite or admin (env WARDEN_REGISTRATION, default admin).", valueName: "policy")) var registration: String?
    @Option(help: ArgumentHelp("A proxy whose X-Forwarded-For is believed: address or CIDR block, IPv4 or IPv6 (repeatable; env WARDEN_TRUSTED_PROXIES, comma-separated).", valueName: "address"))
    var trustedProxy: [String] = []
    @Option(help: ArgumentHelp("A browser origin allowed by CORS (repeatable; env WARDEN_CORS_ORIGINS).", valueName: "origin")) var corsOrigin: [String] = []
    @Option(help: ArgumentHelp("json or text (env WARDEN_LOG_FORMAT; default text when standard error is a terminal, json otherwise).", valueName: "format")) var logFormat: String?

    /// The flags given, by the variable each stands for.
    var flags: [String: (value: String, flag: String)] {
        var flags: [String: (value: String, flag: String)] = [:]
        let given: [(String, String?, String)] = [
            ("WARDEN_HOST", host, "--host"), ("WARDEN_PORT", port.map(String.init), "--port"), ("WARDEN_TLS_CERT", tlsCert, "--tls-cert"),
            ("WARDEN_TLS_KEY", tlsKey, "--tls-key"), ("WARDEN_TLS", noTLS ? "off" : nil, "--no-tls"), ("WARDEN_TLS_MIN", allowTLS12 ? "1.2" : nil, "--allow-tls12"),
            ("WARDEN_REDIS_URL", redisURL, "--redis-url"), ("WARDEN_REGISTRATION", registration, "--registration"),
            ("WARDEN_TRUSTED_PROXIES", trustedProxy.isEmpty ? nil : trustedProxy.joined(separator: ","), "--trusted-proxy"),
            ("WARDEN_CORS_ORIGINS", corsOrigin.isEmpty ? nil : corsOrigin.joined(separator: ","), "--cors-origin"),
            ("WARDEN_LOG_FORMAT", logFormat, "--log-format"),
        ]
        for (variable, value, flag) in given { if let value { flags[variable] = (value, flag) } }
        return flags
    }

    func run() async throws {
        var notes: [String] = []
        let configuration = try await options.settings(configFile: config, flags: flags, notes: { notes.append($0) })
        // Log lines go to standard error from a thread of their own: a request never waits for the output.
        let logWriter = LogWriter()
        LoggingSystem.bootstrap(
            { label, provider in
                BufferedLogHandler(label: label, writer: logWriter, level: configuration.logLevel, format: configuration.logFormat, metadataProvider: provider)
            }, metadataProvider: RequestLogMetadata.provider)
        defer { logWriter.stop() }
        let logger = Logger(label: "warden")
        Terminal.logger = logger
        Notices.route { logger.warning("\($0)") }
        defer {
            Terminal.logger = nil
            Notices.route(to: nil)
        }
        for note in notes { logger.notice("\(note)") }
        if !EventLoopExecutor.keepsSwiftsPool && !EventLoopExecutor.isHookSet {
            logger.warning("tasks run on Swift's own pool, not on the event loops: each request then changes threads (WARDEN_EXECUTOR)")
        }

        // Before the stores open: they take the process's metrics factory when they are made.
        let metrics = MetricsBackend.bootstrap()
        // Spans only with a collector to send them to: otherwise no tracer, and no span is ever made.
        let exporter = try configuration.traces.map { try TracingBackend.bootstrap($0, logger: logger) }
        let server = configuration.server
        let scheme = server.tls ? "https" : "http"
        let (app, runtime) = try await WardenApplication.build(
            configuration: configuration, logger: logger, metrics: metrics, services: exporter.map { [$0] } ?? []
        ) { channel in
            let bound = channel.localAddress?.port.map(String.init) ?? String(server.port)
            FileHandle.standardOutput.write(Data("warden: listening on \(scheme)://\(server.host):\(bound)\n".utf8))
            let console = ["127.0.0.1", "::1", "0.0.0.0", "::"].contains(server.host) ? "localhost" : server.host
            FileHandle.standardOutput.write(Data("warden: web console at \(scheme)://\(console):\(bound)/console\n".utf8))
        }
        // The last resort: the shutdown sequence (drain, grace, jobs, stores) is bounded well within it.
        let watchdog = ShutdownWatchdog(limit: 30)
        do {
            try await ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        } catch {
            await Self.close(runtime)
            throw error
        }
        withExtendedLifetime(watchdog) {}
        await Self.close(runtime)
    }

    /// Closes the database and keyring, waiting at most 10 s: the process exits either way.
    private static func close(_ runtime: Runtime) async {
        if await !finishes(within: .seconds(10), { await runtime.close() }) {
            Terminal.warn("closing the database took longer than 10 s; exiting without waiting for it")
        }
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
