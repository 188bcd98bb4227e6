import Foundation
import HTTPTypes
import Hummingbird
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// The proof of identity a factor change carries: the current password, or a current factor's code.
struct ReauthenticationFields: Decodable {
    let current_password: String?
    let code: String?
    let method: String?
    /// The original system's name for `current_password` (on `POST /auth/mfa/disable`).
    var password: String? = nil

    /// The current password under either name (both, and different: refused as ambiguous).
    func currentPassword() throws -> String? {
        if let current_password, let password, current_password != password {
            throw APIError.badRequest("send `current_password` or `password`, not both")
        }
        return current_password ?? password
    }
}

struct MFASetupBody: Decodable {
    let method: String
    let name: String?
    let destination: String?
    let current_password: String?
    let current_code: String?
    let current_method: String?
}

struct MFAVerifyBody: Decodable {
    let code: String?
    /// The original system's name for `code`.
    let token: String?
    let challenge: String?
    let method: String?
    let device_id: String?
    let factor_id: String?
}

struct MFASendBody: Decodable {
    let challenge: String
    let method: String
    let device_id: String?
}

extension WardenAPI {
    func addMFARoutes(_ router: Router<WardenContext>) {
        on(router, .post, "/auth/mfa/setup") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(MFASetupBody.self, request)
            let proof = try Self.proof(password: body.current_password, code: body.current_code, method: body.current_method)
            switch body.method {
            case "totp":
                let enrollment = try await services.security.enrollTOTP(
                    deviceName: try Field.optional(body.name, "name", max: 64) ?? "authenticator", proof: proof, principal)
                let png = Base64.encode(try enrollment.qrPNG())
                return JSONResponse.make(
                    .created,
                    [
                        "factor_id": enrollment.factorID.lowercasedText, "secret": enrollment.secret, "otpauth_uri": enrollment.uri,
                        "qr_png": png, "qr_svg": try enrollment.qrSVG(),
                        "expires_at": JSONResponse.timestamp(enrollment.expires),
                        // The original system's names: the same QR code, and "not active until verified".
                        "method": "totp", "qr_code": png, "setup_complete": false,
                    ])
            case "sms", "email":
                let channel: MFAState.Factor.Kind = body.method == "sms" ? .sms : .email
                guard services.channels.contains(channel) else { throw APIError.badRequest("\(body.method) codes are not configured on this server") }
                guard let destination = body.destination else { throw APIError.badRequest("`destination` is required") }
                let factor = try await services.security.enrollDestination(
                    channel, destination: try Field.text(destination, "destination", max: 254), name: try Field.optional(body.name, "name", max: 64) ?? body.method,
                    proof: proof, principal)
                return JSONResponse.make(.created, ["factor_id": factor.lowercasedText, "sent": true])
            default:
                throw APIError.badRequest("`method` is one of totp, sms, email")
            }
        }
        // Either confirms an enrolment (with an access token) or completes a login challenge.
        on(router, .post, "/auth/mfa/verify") { request, context in
            var context = context
            let body = try await decode(MFAVerifyBody.self, request)
            if let code = body.code, let token = body.token, code != token { throw APIError.badRequest("send `code` or `token`, not both") }
            guard let text = body.code ?? body.token else { throw APIError.badRequest("`code` is required") }
            let code = try Field.text(text, body.code == nil ? "token" : "code", max: 64)
            if let challenge = body.challenge {
                let method = try Self.method(body.method)
                let device = device(request, context, clientDeviceID: try Field.optional(body.device_id, "device_id", max: 128))
                do {
                    let signedIn = try await services.security.completeChallenge(
                        token: try Field.text(challenge, "challenge", max: 256), method: method, code: code, device: device, context: context.audit)
                    metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "success"])
                    return JSONResponse.make(.ok, tokens(signedIn))
                } catch {
                    metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "failure"])
                    throw error
                }
            }
            let principal = try await authenticate(request, &context)
            let confirmed: AccountSecurity.ConfirmedFactor
            if let factor = body.factor_id {
                confirmed = try await services.security.confirmFactor(try Self.uuid(factor), code: code, principal)
            } else {
                // The original system's form, `{method, token}`: the caller's pending enrolment of that method.
                guard let method = body.method else { throw APIError.badRequest("`factor_id` (or `challenge`, or `method`) is required") }
                guard let kind = MFAState.Factor.Kind(rawValue: method) else { throw APIError.badRequest("`method` is one of totp, sms, email") }
                confirmed = try await services.security.confirmPendingFactor(kind, code: code, principal)
            }
            return JSONResponse.make(
                .ok,
                [
                    "confirmed": true, "methods": confirmed.methods.map(\.rawValue), "factor_id": confirmed.factorID.lowercasedText,
                    "verified": true, "method": confirmed.kind.rawValue,
                ])
        }
        // Sends an SMS or email code for a login challenge.
        on(router, .post, "/auth/mfa/send") { request, context in
            let body = try await decode(MFASendBody.self, request)
            let method = try Self.method(body.method)
            guard method == .sms || method == .email else { throw APIError.badRequest("`method` is sms or email") }
            let device = device(request, context, clientDeviceID: try Field.optional(body.device_id, "device_id", max: 128))
            try await services.security.sendChallengeCode(token: try Field.text(body.challenge, "challenge", max: 256), method: method, device: device, context: context.audit)
            return JSONResponse.make(.accepted, ["sent": true])
        }
        on(router, .get, "/auth/mfa/backup-codes") { request, context in
            var context = context
            return JSONResponse.make(.ok, ["remaining": try await services.security.remainingBackupCodes(try await authenticate(request, &context))])
        }
        on(router, .post, "/auth/mfa/backup-codes") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(ReauthenticationFields.self, request, orIfAbsent: ReauthenticationFields(current_password: nil, code: nil, method: nil))
            let codes = try await services.security.regenerateBackupCodes(proof: try Self.proof(password: try body.currentPassword(), code: body.code, method: body.method), principal)
            return JSONResponse.make(.created, ["codes": codes, "remaining": codes.count])
        }
        // DELETE is Warden's; POST the original system's (which sent `{method, password}`). Both turn every
        // factor off and need the same proof; POST answers the original's `{message}`.
        for verb in [HTTPRequest.Method.delete, .post] {
            on(router, verb, "/auth/mfa/disable") { request, context in
                var context = context
                let principal = try await authenticate(request, &context)
                let body = try await decode(ReauthenticationFields.self, request, orIfAbsent: ReauthenticationFields(current_password: nil, code: nil, method: nil))
                // The original's `method` named the factor to turn off; here it names the method of `code`
                // (unused without one): every factor goes either way.
                let proof = try Self.proof(password: try body.currentPassword(), code: body.code, method: body.method)
                try await services.security.disableMFA(proof: proof, principal)
                return verb == .delete ? JSONResponse.noContent() : JSONResponse.make(.ok, ["message": "MFA disabled", "disabled": true])
            }
        }
    }

    static func method(_ text: String?) throws -> MFAService.Method {
        // `backup_codes` is the original system's name for the method.
        guard let text, let method = MFAService.Method(rawValue: text == "backup_codes" ? "backup_code" : text) else { throw APIError.badRequest("`method` is one of totp, sms, email, backup_code") }
        return method
    }

    static func proof(password: String?, code: String?, method: String?) throws -> AccountSecurity.Reauthentication {
        AccountSecurity.Reauthentication(
            password: try Field.optional(password, "current_password", max: 1024), code: try Field.optional(code, "code", max: 64),
            method: try method.map { try Self.method($0) })
    }
}
