import Foundation
import Hummingbird
public import Logging
public import NIOCore
import NIOSSL
public import ServiceLifecycle
import Synchronization
import WardenAccess
public import WardenAudit
import WardenAuth
public import WardenCore
import WardenCrypto
public import WardenDelivery
public import WardenHTTP
import WardenMFA
import WardenMigrate
import WardenRedis
import WardenSQL
import WardenSessions
import WardenTLS

/// Builds Warden's HTTP application from a configuration: the one wiring `warden serve`, the HTTP tests
/// and the benchmarks run.
public enum WardenApplication {
    /// The API over `runtime`: the server's MFA service (with delivery and passkeys), the use cases under
    /// the configuration's policies, and the router's configuration.
    ///
    /// - Parameters:
    ///   - messenger: SMS and email senders (nil: none; ``messenger(configuration:)`` builds the configured ones).
    ///   - databaseHealthy, redisHealthy: readiness probes.
    ///   - auditVerifier: verifies the audit chain for the console's "verify" button.
    ///   - clock: the API's clock (the console's charts, the security status).
    public static func api(
        configuration: WardenConfiguration, runtime: Runtime, messenger: DeliveryMessenger? = nil, metrics: Metrics = Metrics(),
        databaseHealthy: @escaping @Sendable () async -> Bool, redisHealthy: (@Sendable () async -> Bool)? = nil,
        auditVerifier: (@Sendable () async throws -> AuditVerifier.Result)? = nil, clock: any WallClock = SystemWallClock()
    ) throws -> WardenAPI {
        let accounts = runtime.accounts
        let notifier = messenger?.email.map { email in
            EmailNotifier(email: email, from: messenger?.from ?? configuration.delivery.from) { id in try? await accounts.account(id: id)?.email }
        }
        let channels = messenger?.channels ?? []
        let mfa = try MFAService(
            store: runtime.mfaStore, cipher: runtime.cipher, hashKey: runtime.masterKey.secretHashKey, limiter: runtime.limiter,
            messenger: channels.isEmpty ? nil : messenger, notifier: notifier, policy: configuration.mfa, relyingParty: configuration.relyingParty)
        var services = WardenServices(
            security: runtime.security(mfa: mfa, policy: configuration.server.securityPolicy), limiter: runtime.limiter, auditReader: runtime.audit,
            databaseHealthy: databaseHealthy, redisHealthy: redisHealthy, channels: channels, clock: clock)
        services.consoleKey = runtime.masterKey.consoleKey
        services.auditVerifier = auditVerifier
        return WardenAPI(services: services, configuration: configuration.server, metrics: metrics)
    }

    /// `warden serve`'s application: opens the stores, loads the signing keys, and returns the server
    /// with its background jobs (and `extra` services, such as the trace exporter) and shutdown sequence
    /// (``DrainingServer``), and the runtime to close after it stops.
    public static func build(
        configuration: WardenConfiguration, logger: Logger, metrics: Metrics, services extra: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws -> (application: some Service, runtime: Runtime) {
        var configuration = configuration
        configuration.cipher.policy.sealReservation = FieldCipher.Configuration().policy.sealReservation
        configuration.passwordHashing.sheds = true
        let runtime = try await configuration.open(node: KeyRollout.makeNodeName())
        do {
            try await runtime.keys.load()
            // Report the keys this node holds, and promote what every node now holds.
            try await runtime.rollout.step()
            runtime.sessions.observeReplays { report in
                logger.info(
                    "revocation ledger replayed",
                    metadata: [
                        "sessions": "\(report.sessions)", "watermarks": "\(report.watermarks)",
                        "read_ms": "\(milliseconds(report.reading))", "apply_ms": "\(milliseconds(report.applying))",
                    ])
            }
            guard let store = runtime.store else { preconditionFailure("an opened runtime has its SQL store") }
            var redisHealthy: (@Sendable () async -> Bool)?
            if let redis = runtime.redis {
                redisHealthy = {
                    do {
                        _ = try await redis.send("PING")
                        return true
                    } catch { return false }
                }
            }
            let chain = store.auditChain
            var api = try api(
                configuration: configuration, runtime: runtime, messenger: try messenger(configuration: configuration), metrics: metrics,
                databaseHealthy: { await answers(within: .seconds(2)) { _ = try await store.head() } }, redisHealthy: redisHealthy,
                auditVerifier: { try await AuditVerifier(chain: chain).verify(store) })
            let tls = configuration.server.tls ? try tlsContext(configuration) : nil
            var jobs = backgroundJobs(runtime: runtime, store: store, configuration: configuration, logger: logger) + extra
            var context: (@Sendable () -> NIOSSLContext)?
            if let tls {
                jobs.append(TLSReload.job(tls, every: .seconds(configuration.tlsReloadSeconds), logger: logger))
                api.certificateExpiry = { tls.certificate.notValidAfter }
                context = { tls.context }
            }
            let application = try WardenServer.service(api: api, tls: context, logger: logger, services: jobs, onServerRunning: onServerRunning)
            return (application, runtime)
        } catch {
            await runtime.close()
            throw error
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Background work, as services of the application's group: started with it, cancelled and awaited
    /// at shutdown, failures logged.
    static func backgroundJobs(runtime: Runtime, store: SQLStore, configuration: WardenConfiguration, logger: Logger) -> [any Service] {
        let (cipher, sessions, rollout, grace) = (runtime.cipher, runtime.sessions, runtime.rollout, configuration.keyGrace)
        let graceContext = AuditContext(actor: "system")
        return [
            // Keys: changes made by another node or the CLI, two-phase rotation when due (KeyRollout), at
            // every reload interval and at once when PostgreSQL announces a change.
            TaskService(name: "key rollout") {
                await rollout.run { error in
                    logger.error("background job failed", metadata: ["job": "key rollout", "error": .string(String(describing: type(of: error)))])
                }
            },
            TaskService(name: "key change notifications") {
                try? await store.listenForKeyChanges { rollout.wake() }
            },
            // A restarted or emptied session store gets the revocation ledger replayed.
            PeriodicService(name: "revocation ledger replay", every: .seconds(5), logger: logger) { try await sessions.replayIfRestarted() },
            // Key versions whose grace period is over and that no counted column uses any more close.
            PeriodicService(name: "key grace closing", every: .seconds(600), waitFirst: false, logger: logger) {
                _ = try await KeyAccounting.closeGraceIfDue(cipher: cipher, store: store, grace: grace, context: graceContext)
            },
            PeriodicService(name: "rate-limit pruning", every: .seconds(300), logger: logger) { try await store.pruneRateLimits(now: Date()) },
        ]
    }

    /// The configured certificate and key, or a self-signed pair generated (and renewed) in the data
    /// directory; reloaded by ``TLSReload`` when the files change.
    static func tlsContext(_ configuration: WardenConfiguration) throws -> ReloadingTLSContext {
        let host = configuration.server.host
        let minimum: TLSSettings.MinimumVersion = configuration.server.tlsMinimumVersion == "TLSv1.2" ? .tls12 : .tls13
        func settings(_ certificate: String, _ key: String) -> TLSSettings {
            var settings = TLSSettings(certificatePath: certificate, keyPath: key, minimumVersion: minimum)
            settings.signsOffEventLoop = configuration.tlsSignsOffLoop
            return settings
        }
        if let files = configuration.tlsFiles {
            let tls = try ReloadingTLSContext(settings: settings(files.certificate, files.key))
            for warning in try CertificateInspection.read(certificatePath: files.certificate).warnings(at: Date()) { Notices.warn(warning) }
            return tls
        }
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let pair = try CertificateGenerator.ensure(
            directory: configuration.dataDirectory, dnsNames: ["localhost"] + (isAddress || host == "localhost" ? [] : [host]),
            ipAddresses: ["127.0.0.1", "::1"] + (isAddress && !["127.0.0.1", "::1", "0.0.0.0", "::"].contains(host) ? [host] : []))
        if pair.renewed {
            Notices.warn("renewed the self-signed TLS certificate at \(pair.certificatePath) before it expired; clients that pinned the old one need the new one")
        } else if pair.generated {
            Notices.warn("generated a self-signed TLS certificate at \(pair.certificatePath) (key mode 0600); use a real certificate in production (--tls-cert/--tls-key)")
        }
        for warning in pair.warnings { Notices.warn(warning) }
        return try ReloadingTLSContext(settings: settings(pair.certificatePath, pair.keyPath))
    }

    /// The configured email and SMS senders; in the embedded setup without either, a development sender
    /// writing to the data directory.
    public static func messenger(configuration: WardenConfiguration) throws -> DeliveryMessenger {
        let delivery = configuration.delivery
        var email: (any EmailSender)?
        var sms: (any SMSSender)?
        if let host = delivery.smtpHost {
            let security: SMTPConfiguration.Security =
                switch delivery.smtpSecurity {
                case "tls": .implicitTLS
                case "none": .none
                default: .startTLS
                }
            email = SMTPSender(
                configuration: SMTPConfiguration(
                    host: host, port: delivery.smtpPort, security: security, username: delivery.smtpUsername, password: delivery.smtpPassword))
        }
        if let sid = delivery.smsAccountSID, let token = delivery.smsAuthToken, let number = delivery.smsFrom {
            sms = HTTPSMSSender(configuration: HTTPSMSConfiguration(accountSID: sid, authToken: token, from: number, baseURL: delivery.smsBaseURL))
        }
        if delivery.devOutbox == true || (configuration.isEmbedded && email == nil && sms == nil && delivery.devOutbox != false) {
            let file = FileSender(directory: configuration.dataDirectory)
            Notices.warn("SMS and email codes go to \(file.outboxPath) (development sender); configure WARDEN_SMTP_HOST and WARDEN_SMS_* for real delivery")
            email = email ?? file
            sms = sms ?? file
        }
        return DeliveryMessenger(email: email, sms: sms, from: delivery.from)
    }

    /// Whether `check` succeeds within `limit`: a readiness probe answers promptly even when a store hangs
    /// (the check is left to finish or fail on its own).
    static func answers(within limit: Duration, _ check: @escaping @Sendable () async throws -> Void) async -> Bool {
        final class Outcome: Sendable {
            let succeeded = Atomic(false)
        }
        let outcome = Outcome()
        let finished = await finishes(within: limit) {
            do {
                try await check()
                outcome.succeeded.store(true, ordering: .releasing)
            } catch {}
        }
        return finished && outcome.succeeded.load(ordering: .acquiring)
    }
}
