import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// Passkeys (WebAuthn) as JSON routes: registration, listing, renaming and removal for the caller;
/// passwordless sign-in; a passkey completing a password login's challenge.
extension WardenAPI {
    func addPasskeyRoutes(_ router: Router<WardenContext>) {
        on(router, .post, "/auth/passkeys/register/options") { request, context in
            var context = context
            let ceremony = try await services.security.beginPasskeyRegistration(try await authenticate(request, &context))
            return JSONResponse.make(.ok, ["ceremony": ceremony.token, "publicKey": ceremony.options])
        }
        on(router, .post, "/auth/passkeys/register") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await JSONBody.object(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
            let passkey = try await services.security.registerPasskey(
                token: try Self.string(body, "ceremony", max: 256), credential: try Self.credential(body), name: try Self.optionalString(body, "name", max: 64) ?? "Passkey",
                proof: AccountSecurity.Reauthentication(
                    password: try Self.optionalString(body, "current_password", max: 1024), code: try Self.optionalString(body, "code", max: 64),
                    method: try Self.optionalString(body, "method", max: 16).map { try Self.method($0) }),
                principal)
            return JSONResponse.make(.created, Self.passkey(passkey))
        }
        on(router, .get, "/auth/passkeys") { request, context in
            var context = context
            let passkeys = try await services.security.ownPasskeys(try await authenticate(request, &context))
            return JSONResponse.make(.ok, ["passkeys": passkeys.map(Self.passkey)])
        }
        on(router, .post, "/auth/passkeys/:id") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await JSONBody.object(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
            try await services.security.renamePasskey(try Self.uuid(context.parameters.get("id")), to: try Self.string(body, "name", max: 64), principal)
            return JSONResponse.noContent()
        }
        on(router, .delete, "/auth/passkeys/:id") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let id = try Self.uuid(context.parameters.get("id"))
            let proof = try await decode(ReauthenticationFields.self, request, orIfAbsent: ReauthenticationFields(current_password: nil, code: nil, method: nil))
            try await services.security.removePasskey(id, proof: Self.proof(password: try proof.currentPassword(), code: proof.code, method: proof.method), principal)
            return JSONResponse.noContent()
        }
        on(router, .post, "/auth/passkeys/login/options") { _, _ in
            let ceremony = try services.security.beginPasskeySignIn()
            return JSONResponse.make(.ok, ["ceremony": ceremony.token, "publicKey": ceremony.options])
        }
        on(router, .post, "/auth/passkeys/login") { request, context in
            let body = try await JSONBody.object(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
            do {
                let signedIn = try await services.security.signInWithPasskey(
                    token: try Self.string(body, "ceremony", max: 256), credential: try Self.credential(body),
                    device: device(request, context, clientDeviceID: try Self.optionalString(body, "device_id", max: 128)), context: context.audit)
                metrics.increment("warden_logins_total", ["outcome": "success"])
                return JSONResponse.make(.ok, tokens(signedIn))
            } catch {
                metrics.increment("warden_logins_total", ["outcome": "failure"])
                throw error
            }
        }
        on(router, .post, "/auth/mfa/passkey/options") { request, context in
            let body = try await JSONBody.object(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
            let device = device(request, context, clientDeviceID: try Self.optionalString(body, "device_id", max: 128))
            guard let options = try await services.security.passkeyChallengeOptions(token: try Self.string(body, "challenge", max: 256), device: device) else {
                throw APIError(.unauthorized, "invalid_code", "the challenge is not valid, or the account has no passkey")
            }
            return JSONResponse.make(.ok, ["publicKey": options])
        }
        on(router, .post, "/auth/mfa/passkey") { request, context in
            let body = try await JSONBody.object(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth)
            let device = device(request, context, clientDeviceID: try Self.optionalString(body, "device_id", max: 128))
            let credential = String(decoding: try Self.credential(body), as: UTF8.self)
            do {
                let signedIn = try await services.security.completeChallenge(
                    token: try Self.string(body, "challenge", max: 256), method: .passkey, code: credential, device: device, context: context.audit)
                metrics.increment("warden_mfa_verifications_total", ["method": "passkey", "outcome": "success"])
                return JSONResponse.make(.ok, tokens(signedIn))
            } catch {
                metrics.increment("warden_mfa_verifications_total", ["method": "passkey", "outcome": "failure"])
                throw error
            }
        }
    }

    static func passkey(_ passkey: MFAState.Passkey) -> [String: Any] {
        var object: [String: Any] = [
            "id": passkey.id.lowercasedText, "name": passkey.name, "credential_id": passkey.credentialID, "algorithm": passkey.algorithm,
            "aaguid": passkey.aaguid, "attestation_format": passkey.attestationFormat, "transports": passkey.transports,
            "backup_eligible": passkey.backupEligible, "backed_up": passkey.backedUp, "sign_count": Int(passkey.signCount),
            "created_at": JSONResponse.timestamp(passkey.created), "flagged": passkey.flagged != nil,
        ]
        if let used = passkey.lastUsed { object["last_used_at"] = JSONResponse.timestamp(used) }
        if let flagged = passkey.flagged { object["flagged_at"] = JSONResponse.timestamp(flagged) }
        return object
    }

    /// The body's `credential`: the object `PublicKeyCredential.toJSON()` returns, as JSON bytes (at most
    /// 64 KiB).
    static func credential(_ body: [String: Any]) throws -> [UInt8] {
        guard let object = body["credential"] as? [String: Any], let data = try? JSONSerialization.data(withJSONObject: object) else {
            throw APIError.badRequest("`credential` (the PublicKeyCredential as JSON) is required")
        }
        guard data.count <= 65_536 else { throw APIError(.contentTooLarge, "too_large", "`credential` is larger than 64 KiB") }
        return Array(data)
    }

    static func string(_ body: [String: Any], _ name: String, max: Int) throws -> String {
        guard let value = body[name] as? String else { throw APIError.badRequest("`\(name)` is required and must be a string") }
        return try Field.text(value, name, max: max, min: 1)
    }

    static func optionalString(_ body: [String: Any], _ name: String, max: Int) throws -> String? {
        guard let value = body[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw APIError.badRequest("`\(name)` must be a string") }
        return try Field.text(text, name, max: max)
    }
}
