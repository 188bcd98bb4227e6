import Foundation
import HTTPTypes
import Hummingbird
import WardenAccess
import WardenCore
import WardenMFA
import WardenSessions

extension WardenAPI {
    func addAuthRoutes(_ router: Router<WardenContext>) {
        router.post("/auth/register") { request, context in try await register(request, context) }
        router.post("/auth/login") { request, context in try await login(request, context) }
        router.post("/auth/refresh") { request, context in
            let body = try await body(request)
            let issued = try await services.sessions.refresh(refreshToken: try body.string("refresh_token", maxLength: 4096), context: context.audit)
            return JSONResponse.make(.ok, tokens(issued))
        }
        router.post("/auth/logout") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            try await services.sessions.logout(caller.session, context: context.audit)
            metrics.increment("warden_session_revocations_total", ["kind": "logout"], help: "Sessions revoked, by kind.")
            return JSONResponse.noContent()
        }
        router.post("/auth/logout-all") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            let count = try await services.sessions.revokeAll(accountID: caller.account.id, reason: "logout_all", context: context.audit)
            metrics.increment("warden_session_revocations_total", ["kind": "logout_all"], by: Double(count), help: "Sessions revoked, by kind.")
            return JSONResponse.make(.ok, ["revoked": count])
        }
    }

    private func register(_ request: Request, _ context: WardenContext) async throws -> Response {
        var context = context
        let body = try await body(request)
        switch configuration.registration {
        case .open:
            break
        case .invite:
            let code = try body.optionalString("invite_code", maxLength: 256) ?? ""
            let known = configuration.inviteCodes.contains { Self.constantTimeEqual($0, code) }
            guard known else { throw APIError(.forbidden, "invite_required", "registration needs a valid invite code") }
        case .admin:
            let caller = try await authenticate(request, &context)
            try await require("accounts:manage", caller)
        }
        let account = try await services.accounts.create(
            username: try body.string("username", maxLength: 128), password: try body.string("password", maxLength: 1024),
            email: try body.optionalString("email", maxLength: 254), phone: try body.optionalString("phone", maxLength: 32), context: context.audit)
        return JSONResponse.make(.created, ["id": account.id.uuidString.lowercased(), "username": account.username])
    }

    /// Password first; then tokens, or an MFA challenge naming the methods. The original system's
    /// single-call form (`mfa_token` + `mfa_method`) completes both steps at once.
    private func login(_ request: Request, _ context: WardenContext) async throws -> Response {
        let body = try await body(request)
        let username = try body.string("username", maxLength: 256)
        let password = try body.string("password", maxLength: 1024)
        let deviceID = try body.optionalString("device_id", maxLength: 128)
        let mfaCode = try body.optionalString("mfa_token", maxLength: 64)
        let mfaMethod = try body.optionalString("mfa_method", maxLength: 32)
        // The counter is keyed by the name's keyed tag, never its text: what is typed as a username is
        // sometimes a password, and the counters live in Redis or the database.
        let usernameKey = services.accounts.usernameTag(username)
        do {
            if let retry = try await configuration.accountLoginLimit.exceeded(key: "http.login:" + usernameKey, in: services.limiter, now: services.clock.now()) {
                throw APIError(.tooManyRequests, "rate_limited", "too many login attempts for this account; slow down", retryAfter: retry)
            }
        } catch let error as APIError { throw error } catch { throw APIError.unavailable }

        let account: Account
        do {
            account = try await services.accounts.authenticate(username: username, password: password, context: context.audit)
        } catch let error as AccessError where error.code == .invalidCredentials {
            metrics.increment("warden_logins_total", ["outcome": "failure"], help: "Password logins by outcome.")
            if let known = try? await services.accounts.account(username: username) {
                try? await services.sessions.recordFailedLogin(accountID: known.id, context: context.audit)
            }
            throw error
        }
        metrics.increment("warden_logins_total", ["outcome": "success"], help: "Password logins by outcome.")
        let device = device(request, context, clientDeviceID: deviceID)
        let methods = try await services.mfa.methods(accountID: account.id)
        if methods.isEmpty {
            let issued = try await services.sessions.start(accountID: account.id, device: device, level: .password, context: context.audit)
            return JSONResponse.make(.ok, tokens(issued))
        }
        if let mfaCode {
            guard let method = mfaMethod.flatMap(MFAService.Method.init(rawValue:)) ?? (mfaMethod == nil ? .totp : nil) else {
                throw APIError.badRequest("`mfa_method` is one of totp, sms, email, backup_code")
            }
            do {
                try await services.mfa.verify(accountID: account.id, method: method, code: mfaCode, context: context.audit)
                metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "success"], help: "MFA checks by method and outcome.")
            } catch {
                metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "failure"], help: "MFA checks by method and outcome.")
                throw error
            }
            let issued = try await services.sessions.start(accountID: account.id, device: device, level: .multiFactor, context: context.audit)
            return JSONResponse.make(.ok, tokens(issued))
        }
        guard let challenge = try await services.mfa.beginChallenge(accountID: account.id, device: device.fingerprint, context: context.audit) else {
            throw APIError.unavailable
        }
        return JSONResponse.make(.ok, [
            "mfa_required": true, "challenge": challenge.token, "methods": challenge.methods.map(\.rawValue),
            "expires_at": JSONResponse.timestamp(challenge.expires),
        ])
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
