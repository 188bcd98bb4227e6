import Foundation
import Hummingbird
import NIOCore
import Synchronization
import WardenAuth
import WardenCore
import WardenCrypto
import WardenMFA
import WardenSessions

/// The last readiness answer, kept for a second.
final class ReadinessCache: Sendable {
    private struct State {
        var entry: (time: Date, checks: [String: String])?
        var refreshing = false
    }

    private let state = Mutex(State())

    /// What to answer: fresh checks, or — when they are older than a second — the previous checks while
    /// another request is already probing (`nil`: this caller probes, and must call `store`).
    func value(now: Date) -> [String: String]? {
        state.withLock { state in
            if let entry = state.entry, (0..<1).contains(now.timeIntervalSince(entry.time)) { return entry.checks }
            if state.refreshing, let entry = state.entry { return entry.checks }
            state.refreshing = true
            return nil
        }
    }

    func store(_ checks: [String: String], now: Date) {
        state.withLock { state in
            state.entry = (now, checks)
            state.refreshing = false
        }
    }
}

extension WardenAPI {
    func addStatusRoutes(_ router: Router<WardenContext>) {
        // The load balancer's most frequent request: a body made once, no dictionary, no writer.
        let healthy = ByteBuffer(string: #"{"status":"ok"}"#)
        on(router, .get, "/health") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: healthy)) }
        on(router, .get, "/health/ready") { _, _ in
            // Shutting down: not ready, whatever the stores say (and without asking them).
            if shutdown.isDraining { return JSONResponse.make(.serviceUnavailable, ["status": "shutting_down"]) }
            let checks = await readiness()
            let ready = checks.values.allSatisfy { $0 != "down" }
            return JSONResponse.make(ready ? .ok : .serviceUnavailable, ["status": ready ? "ready" : "not_ready", "checks": checks])
        }
        on(router, .get, "/.well-known/jwks.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: await services.security.tokens.keys.jwks())))
        }
        on(router, .get, "/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        on(router, .get, "/security/status") { request, context in try await securityStatus(request, context) }
        on(router, .get, "/metrics") { _, context in
            guard ServerConfiguration.contains(configuration.metricsAddresses, context.clientAddress) else { throw APIError.notFound }
            let keyring = services.cipher.keyring
            let now = services.clock.now()
            var gauges: [(name: String, labels: [String: String], value: Double)] = keyring.versions.filter { $0.state == .primary || $0.state == .active }.map {
                ("warden_key_age_seconds", ["version": String($0.version), "state": $0.state.rawValue], now.timeIntervalSince($0.created))
            }
            gauges.append(("warden_key_primary_version", [:], Double(keyring.primaryVersion)))
            gauges.append(("warden_key_unknown_reloads", ["key": "field"], Double(services.cipher.unknownVersionReloadCount)))
            gauges.append(("warden_key_unknown_reloads", ["key": "signing"], Double(services.security.tokens.keys.unknownKIDReloadCount)))
            if let expiry = certificateExpiry?() { gauges.append(("warden_tls_certificate_expiry_seconds", [:], expiry.timeIntervalSince(now))) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render(gauges: gauges))))
        }
    }

    /// The readiness checks, at most once a second (`/health/ready` is public: a flood of probes must not
    /// become a flood of database and Redis round trips). One request probes; the others answer with the
    /// previous checks meanwhile.
    func readiness() async -> [String: String] {
        let now = services.clock.now()
        if let cached = readinessCache.value(now: now) { return cached }
        var checks = ["database": await services.databaseHealthy() ? "up" : "down", "keyring": services.cipher.keyring.versions.isEmpty ? "down" : "up"]
        if let redis = services.redisHealthy { checks["redis"] = await redis() ? "up" : "down" }
        readinessCache.store(checks, now: now)
        return checks
    }

    /// The server's posture checks (`/security/status` and the console's dashboard).
    func postureChecks(readiness: [String: String]) -> [(name: String, passed: Bool, detail: String)] {
        let period = services.cipher.configuration.policy.rotationPeriod
        let age = services.clock.now().timeIntervalSince(services.cipher.keyring.primary.created)
        var checks: [(name: String, passed: Bool, detail: String)] = [
            ("tls", configuration.tls, configuration.tls ? "TLS terminated here, minimum \(configuration.tlsMinimumVersion)" : "plain HTTP (only behind a TLS-terminating proxy)"),
            ("tls_1_3_only", configuration.tls && configuration.tlsMinimumVersion == "TLSv1.3", "minimum protocol \(configuration.tlsMinimumVersion)"),
            ("key_rotation_current", age < period, "primary key \(Int(age / 86_400)) days old, rotation every \(Int(period / 86_400)) days"),
            ("database", readiness["database"] == "up", "database \(readiness["database"] ?? "down")"),
            ("registration_restricted", configuration.registration != .open, "registration: \(configuration.registration.rawValue)"),
        ]
        if let redis = readiness["redis"] { checks.append(("redis", redis == "up", "redis \(redis)")) }
        return checks
    }

    /// Live facts, and a rating computed from the checks listed with it.
    private func securityStatus(_ request: Request, _ context: WardenContext) async throws -> Response {
        var context = context
        let caller: Principal? = request.headers[.authorization] == nil ? nil : try await authenticate(request, &context)
        var keyring = keyring(services.cipher.keyring)
        let readiness = await readiness()
        let period = services.cipher.configuration.policy.rotationPeriod
        let age = Double(keyring["primary_age_seconds"] as? Int ?? 0)
        var checks: [[String: Any]] = postureChecks(readiness: readiness).map { ["name": $0.name, "passed": $0.passed, "detail": $0.detail] }
        var mfaState: [String: Any]?
        // The original system's `mfa.user_status`: its per-method flags, or the text it answered anonymously.
        var userStatus: Any = "Not authenticated"
        if let caller, let account = caller.accountID, let session = caller.session {
            let methods = try await services.security.mfa.methods(accountID: account)
            let remaining = try await services.security.mfa.remainingBackupCodes(accountID: account)
            mfaState = [
                "enabled": !methods.isEmpty, "methods": methods.map(\.rawValue), "backup_codes_remaining": remaining,
                "session_level": session.level.rawValue,
            ]
            userStatus =
                [
                    "totp_enabled": methods.contains(.totp), "sms_enabled": methods.contains(.sms), "email_enabled": methods.contains(.email),
                    "backup_codes_count": remaining, "methods_available": methods.map(\.rawValue),
                ] as [String: Any]
            checks.append([
                "name": "caller_mfa", "passed": !methods.isEmpty,
                "detail": methods.isEmpty ? "your account has no second factor" : "your account uses \(methods.map(\.rawValue).joined(separator: ", "))",
            ])
        }
        let passed = checks.filter { $0["passed"] as? Bool == true }.count
        let rating = passed == checks.count ? "strong" : Double(passed) / Double(checks.count) >= 0.75 ? "fair" : "weak"
        var available = ["totp", "backup_code"]
        if services.channels.contains(.sms) { available.append("sms") }
        if services.channels.contains(.email) { available.append("email") }
        // The original system's names for the same facts, beside Warden's (docs/migration-api.md).
        keyring["current_version"] = keyring["primary_version"]
        keyring["rotation_needed"] = age >= period
        let sessionStore = readiness["redis"] ?? readiness["database"] ?? "down"
        var body: [String: Any] = [
            "security_rating": rating, "tls_enabled": configuration.tls, "cors_enabled": !configuration.corsOrigins.isEmpty,
            "session_management": [
                "status": sessionStore == "up" ? "healthy" : "degraded", "store": readiness["redis"] == nil ? "database" : "redis",
                "redis_health": readiness["redis"] ?? "not_configured",
            ],
            "mfa": ["available_methods": available, "user_status": userStatus] as [String: Any],
            "encryption": keyring, "readiness": readiness, "mfa_methods_available": available,
            "tls": ["enabled": configuration.tls, "minimum_version": configuration.tlsMinimumVersion],
            "checks": checks, "rating": ["value": rating, "passed": passed, "total": checks.count],
            "generated_at": JSONResponse.timestamp(services.clock.now()),
        ]
        body["caller_mfa"] = mfaState
        return JSONResponse.make(.ok, body)
    }
}
