import Foundation
import HTTPTypes
import Hummingbird
import WardenCore
import WardenMFA
import WardenSessions

extension WardenAPI {
    func addMFARoutes(_ router: Router<WardenContext>) {
        router.post("/auth/mfa/setup") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            let body = try await body(request)
            let proof = MFAProof(lastMFA: caller.lastMFA)
            switch try body.string("method", maxLength: 16) {
            case "totp":
                let enrollment = try await services.mfa.enrollTOTP(
                    accountID: caller.account.id, accountName: caller.account.username, deviceName: try body.optionalString("name", maxLength: 64) ?? "authenticator",
                    proof: proof, context: context.audit)
                return JSONResponse.make(.created, [
                    "factor_id": enrollment.factorID.uuidString.lowercased(), "secret": enrollment.secret, "otpauth_uri": enrollment.uri,
                    "qr_png": Base64.encode(try enrollment.qrPNG()), "qr_svg": try enrollment.qrSVG(),
                    "expires_at": JSONResponse.timestamp(enrollment.expires),
                ])
            case let kind where kind == "sms" || kind == "email":
                let channel: MFAState.Factor.Kind = kind == "sms" ? .sms : .email
                guard services.channels.contains(channel) else { throw APIError.badRequest("\(kind) codes are not configured on this server") }
                let factor = try await services.mfa.enrollDestination(
                    channel, destination: try body.string("destination", maxLength: 254), accountID: caller.account.id,
                    name: try body.optionalString("name", maxLength: 64) ?? kind, proof: proof, context: context.audit)
                return JSONResponse.make(.created, ["factor_id": factor.uuidString.lowercased(), "sent": true])
            default:
                throw APIError.badRequest("`method` is one of totp, sms, email")
            }
        }
        // Either confirms an enrolment (with an access token) or completes a login challenge.
        router.post("/auth/mfa/verify") { request, context in
            var context = context
            let body = try await body(request)
            let code = try body.string("code", maxLength: 64)
            if let challenge = try body.optionalString("challenge", maxLength: 256) {
                guard let method = MFAService.Method(rawValue: try body.string("method", maxLength: 16)) else {
                    throw APIError.badRequest("`method` is one of totp, sms, email, backup_code")
                }
                let device = device(request, context, clientDeviceID: try body.optionalString("device_id", maxLength: 128))
                let accountID: UUID
                do {
                    accountID = try await services.mfa.completeChallenge(token: challenge, device: device.fingerprint, method: method, code: code, context: context.audit)
                    metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "success"], help: "MFA checks by method and outcome.")
                } catch {
                    metrics.increment("warden_mfa_verifications_total", ["method": method.rawValue, "outcome": "failure"], help: "MFA checks by method and outcome.")
                    throw error
                }
                guard let account = try await services.accounts.account(id: accountID), account.status == .active else {
                    throw APIError(.unauthorized, "invalid_credentials", "invalid username or password")
                }
                let issued = try await services.sessions.start(accountID: account.id, device: device, level: .multiFactor, context: context.audit)
                return JSONResponse.make(.ok, tokens(issued))
            }
            let caller = try await authenticate(request, &context)
            let factor = try Self.uuid(try body.string("factor_id", maxLength: 64))
            try await services.mfa.confirm(accountID: caller.account.id, factorID: factor, code: code, context: context.audit)
            // A new factor: every other session of the account ends.
            _ = try await services.sessions.revokeOthers(accountID: caller.account.id, keeping: caller.session.sessionHash, reason: "mfa_changed", context: context.audit)
            return JSONResponse.make(.ok, ["confirmed": true, "methods": try await services.mfa.methods(accountID: caller.account.id).map(\.rawValue)])
        }
        // Sends an SMS or email code for a login challenge.
        router.post("/auth/mfa/send") { request, context in
            let body = try await body(request)
            guard let method = MFAService.Method(rawValue: try body.string("method", maxLength: 16)), method == .sms || method == .email else {
                throw APIError.badRequest("`method` is sms or email")
            }
            let device = device(request, context, clientDeviceID: try body.optionalString("device_id", maxLength: 128))
            try await services.mfa.sendChallengeCode(token: try body.string("challenge", maxLength: 256), device: device.fingerprint, method: method, context: context.audit)
            return JSONResponse.make(.accepted, ["sent": true])
        }
        router.get("/auth/mfa/backup-codes") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            return JSONResponse.make(.ok, ["remaining": try await services.mfa.remainingBackupCodes(accountID: caller.account.id)])
        }
        router.post("/auth/mfa/backup-codes") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            let codes = try await services.mfa.generateBackupCodes(accountID: caller.account.id, proof: MFAProof(lastMFA: caller.lastMFA), context: context.audit)
            return JSONResponse.make(.created, ["codes": codes, "remaining": codes.count])
        }
        router.delete("/auth/mfa/disable") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            try await services.mfa.disable(accountID: caller.account.id, proof: MFAProof(lastMFA: caller.lastMFA), context: context.audit)
            _ = try await services.sessions.revokeOthers(accountID: caller.account.id, keeping: caller.session.sessionHash, reason: "mfa_changed", context: context.audit)
            return JSONResponse.noContent()
        }
    }
}
