import Foundation
import HTTPTypes
import Hummingbird
import WardenAccess
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// `POST /auth/register`.
struct RegisterBody: Decodable {
    let username: String
    let password: String
    let email: String?
    let phone: String?
    let invite_code: String?
}

/// `POST /auth/login`.
struct LoginBody: Decodable {
    let username: String
    let password: String
    let device_id: String?
    let device_token: String?
    let mfa_token: String?
    let mfa_method: String?
}

struct RefreshBody: Decodable {
    let refresh_token: String
}

/// `POST /auth/password`.
struct PasswordChangeBody: Decodable {
    let current_password: String
    let new_password: String
}

extension WardenAPI {
    func addAuthRoutes(_ router: Router<WardenContext>) {
        on(router, .post, "/auth/register") { request, context in
            var context = context
            let body = try await decode(RegisterBody.self, request)
            let principal = request.headers[.authorization] == nil ? nil : try await authenticate(request, &context)
            let account = try await services.security.register(
                try Self.newAccount(username: body.username, password: body.password, email: body.email, phone: body.phone),
                rule: configuration.registrationRule, inviteCode: try Field.optional(body.invite_code, "invite_code", max: 256),
                principal: principal, context: context.audit)
            return JSONResponse.make(.created, ["id": account.id.lowercasedText, "username": account.username])
        }
        on(router, .post, "/auth/login") { request, context in
            let body = try await decode(LoginBody.self, request)
            let method = try body.mfa_method.map { text -> MFAService.Method in
                do { return try Self.method(text) } catch { throw APIError.badRequest("`mfa_method` is one of totp, sms, email, backup_code") }
            }
            let login = AccountSecurity.LoginRequest(
                username: try Field.text(body.username, "username", max: 256), password: try Field.text(body.password, "password", max: 1024),
                device: device(request, context, clientDeviceID: try Field.optional(body.device_id, "device_id", max: 128)),
                deviceToken: try Field.optional(body.device_token, "device_token", max: 128), mfaCode: try Field.optional(body.mfa_token, "mfa_token", max: 64),
                mfaMethod: method)
            let outcome: AccountSecurity.LoginOutcome
            do {
                outcome = try await services.security.login(login, context: context.audit)
                metrics.increment("warden_logins_total", ["outcome": "success"])
            } catch let error as AccessError where error.code == .invalidCredentials {
                metrics.increment("warden_logins_total", ["outcome": "failure"])
                throw error
            }
            switch outcome {
            case .signedIn(let signedIn):
                return JSONResponse.make(.ok, tokens(signedIn))
            case .challenge(let challenge):
                var body: [String: Any] = [
                    "mfa_required": true, "challenge": challenge.token, "methods": challenge.methods.map(\.rawValue),
                    "expires_at": JSONResponse.timestamp(challenge.expires),
                ]
                guard configuration.apiCompatibility == .original else { return JSONResponse.make(.ok, body) }
                // The original's answer: 403 naming the methods (the client logs in again with `mfa_token`);
                // the challenge rides along for clients that complete it instead.
                body["error"] = "MFA verification required"
                body["available_methods"] = body["methods"]
                body["request_id"] = context.requestID
                return JSONResponse.make(.forbidden, body)
            }
        }
        on(router, .post, "/auth/refresh") { request, context in
            let body = try await decode(RefreshBody.self, request)
            let issued = try await services.security.refresh(refreshToken: try Field.text(body.refresh_token, "refresh_token", max: 4096), context: context.audit)
            return JSONResponse.make(.ok, tokens(issued))
        }
        on(router, .post, "/auth/logout") { request, context in
            var context = context
            try await services.security.logout(try await authenticate(request, &context))
            metrics.increment("warden_session_revocations_total", ["kind": "logout"])
            guard configuration.apiCompatibility == .original else { return JSONResponse.noContent() }
            return JSONResponse.make(.ok, ["message": "Logged out successfully", "session_revoked": true])
        }
        on(router, .post, "/auth/logout-all") { request, context in
            var context = context
            let count = try await services.security.logoutEverywhere(try await authenticate(request, &context))
            metrics.increment("warden_session_revocations_total", ["kind": "logout_all"], by: count)
            return JSONResponse.make(.ok, ["revoked": count, "sessions_revoked": count, "message": "Logged out \(count) sessions"])
        }
        on(router, .post, "/auth/password") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(PasswordChangeBody.self, request)
            let revoked = try await services.security.changeOwnPassword(
                current: try Field.text(body.current_password, "current_password", max: 1024), new: try Field.text(body.new_password, "new_password", max: 256), principal)
            return JSONResponse.make(.ok, ["changed": true, "sessions_revoked": revoked])
        }
    }

    static func newAccount(username: String, password: String?, email: String?, phone: String?) throws -> AccountSecurity.NewAccount {
        AccountSecurity.NewAccount(
            username: try Field.text(username, "username", max: 64, min: 1), password: try Field.optional(password, "password", max: 256),
            email: try Field.optional(email, "email", max: 254), phone: try Field.optional(phone, "phone", max: 32))
    }
}
