import Foundation
import Hummingbird
import WardenCore
import WardenCrypto

extension WardenAPI {
    func addCryptoRoutes(_ router: Router<WardenContext>) {
        router.post("/v1/crypto/encrypt") { request, context in
            try await batch(request, context, permission: "crypto:encrypt") { item in
                let plaintext = try Self.base64(item, "plaintext")
                let envelope = try await services.cipher.seal(plaintext, context: try Self.context(item))
                return ["ciphertext": envelope.text, "key_version": Int(envelope.keyVersion)]
            }
        }
        router.post("/v1/crypto/decrypt") { request, context in
            try await batch(request, context, permission: "crypto:decrypt") { item in
                let opened = try services.cipher.open(try Self.text(item, "ciphertext"), context: try Self.context(item))
                var result: [String: Any] = ["plaintext": Base64.encode(Array(opened.plaintext)), "source": opened.source.format, "needs_rewrap": opened.needsRewrap]
                if let version = opened.source.keyVersion { result["key_version"] = Int(version) }
                return result
            }
        }
        router.post("/v1/crypto/rewrap") { request, context in
            try await batch(request, context, permission: "crypto:rewrap") { item in
                let envelope = try await services.cipher.rewrap(try Self.text(item, "ciphertext"), context: try Self.context(item))
                return ["ciphertext": envelope.text, "key_version": Int(envelope.keyVersion)]
            }
        }
        router.get("/v1/keys") { request, context in
            var context = context
            try await require("keys:read", try await authenticate(request, &context))
            return JSONResponse.make(.ok, keyring())
        }
        router.post("/v1/keys/rotate") { request, context in
            var context = context
            try await require("keys:manage", try await authenticate(request, &context))
            _ = try await services.cipher.rotate()
            return JSONResponse.make(.ok, keyring())
        }
    }

    func keyring() -> [String: Any] {
        let keyring = services.cipher.keyring
        let now = services.clock.now()
        let period = services.cipher.configuration.policy.rotationPeriod
        return [
            "algorithm": "AES-256-GCM", "primary_version": Int(keyring.primaryVersion), "minimum_decryption_version": Int(keyring.minimumDecryptionVersion),
            "primary_age_seconds": Int(now.timeIntervalSince(keyring.primary.created)),
            "next_rotation": JSONResponse.timestamp(keyring.primary.created.addingTimeInterval(period)),
            "versions": keyring.versions.map { ["version": Int($0.version), "state": $0.state.rawValue, "created_at": JSONResponse.timestamp($0.created), "seal_count": Int($0.sealCount)] as [String: Any] },
        ]
    }

    /// One item (`context` plus the field) or `items`: up to `maxBatch` of them. In a batch each item
    /// succeeds or carries its own error.
    private func batch(
        _ request: Request, _ context: WardenContext, permission: String, _ operation: @Sendable ([String: Any]) async throws -> [String: Any]
    ) async throws -> Response {
        var context = context
        try await require(permission, try await authenticate(request, &context))
        let body = try await body(request)
        guard let items = try body.optionalArray("items", maxCount: configuration.maxBatch) else {
            return JSONResponse.make(.ok, try await operation(body.object))
        }
        var results: [[String: Any]] = []
        for item in items {
            do {
                results.append(try await operation(item))
            } catch {
                let failure = APIError.from(error)
                guard failure.status.code < 500 else { throw error }
                results.append(["error": ["code": failure.code, "message": failure.message]])
            }
        }
        return JSONResponse.make(.ok, ["items": results])
    }

    static func context(_ item: [String: Any]) throws -> String {
        guard let context = item["context"] as? String, !context.isEmpty, context.utf8.count <= 1024 else {
            throw APIError.badRequest("`context` (the field the value belongs to, e.g. users/email/42) is required")
        }
        return context
    }

    static func text(_ item: [String: Any], _ key: String) throws -> String {
        guard let text = item[key] as? String, text.utf8.count <= 2 << 20 else { throw APIError.badRequest("`\(key)` must be a string") }
        return text
    }

    static func base64(_ item: [String: Any], _ key: String) throws -> [UInt8] {
        guard let bytes = Base64.decode(try text(item, key), alphabet: .standard, padding: .required) else {
            throw APIError.badRequest("`\(key)` must be standard base64")
        }
        return bytes
    }
}
