import Foundation
import WardenAudit
import WardenCore
public import WardenCrypto

extension AccountSecurity {
    /// The domain every caller context is bound into: a caller's `users/email/42` is sealed and opened as
    /// `caller:users/email/42`.
    ///
    /// - Important: Warden's own values are sealed under contexts that never start with this prefix
    ///   (`accounts/…`, `mfa/…`, `signing-keys/…`), and AES-GCM authenticates the context. So no call of
    ///   the field-encryption API — whatever context it names, even with a copy of the database — can
    ///   open or rewrap an internal value, nor produce one.
    public static let callerDomain = "caller:"

    /// The longest context a caller may name (bytes).
    public static let maxCallerContextBytes = 1000

    /// Seals a caller's value (`crypto:encrypt`).
    public func encrypt(_ plaintext: [UInt8], context: String, _ principal: Principal) async throws -> FieldEnvelope {
        try await require("crypto:encrypt", principal)
        return try await cipher.seal(plaintext, context: try Self.callerContext(context))
    }

    /// Opens caller values (`crypto:decrypt`). One audit event records who read which contexts (never
    /// the values) for the whole batch.
    public func decrypt(_ items: [(ciphertext: String, context: String)], _ principal: Principal) async throws -> [Result<OpenedField, any Error>] {
        try await require("crypto:decrypt", principal)
        let results = await Self.each(items) { [cipher] item in try await cipher.openRefreshingKeyring(item.ciphertext, context: try Self.callerContext(item.context)) }
        let contexts = Array(Set(items.map(\.context))).sorted()
        var details = [
            "items": String(items.count), "opened": String(results.filter { if case .success = $0 { true } else { false } }.count),
            "contexts": contexts.prefix(10).joined(separator: ","),
        ]
        if contexts.count > 10 { details["contexts_omitted"] = String(contexts.count - 10) }
        try await audit.append([principal.context.event("crypto.decrypted", details: details, at: clock.now())])
        return results
    }

    /// Seals a batch of a caller's values (`crypto:encrypt`, checked once for the batch). An item that
    /// cannot be sealed (a context out of bounds) fails alone.
    public func encrypt(_ items: [(plaintext: [UInt8], context: String)], _ principal: Principal) async throws -> [Result<FieldEnvelope, any Error>] {
        try await require("crypto:encrypt", principal)
        return await Self.each(items) { [cipher] item in try await cipher.seal(item.plaintext, context: try Self.callerContext(item.context)) }
    }

    /// Re-encrypts a batch of a caller's values (`crypto:rewrap`, checked once for the batch).
    public func rewrap(_ items: [(ciphertext: String, context: String)], _ principal: Principal) async throws -> [Result<FieldEnvelope, any Error>] {
        try await require("crypto:rewrap", principal)
        return await Self.each(items) { [cipher] item in try await cipher.rewrap(item.ciphertext, context: try Self.callerContext(item.context)) }
    }

    /// `body` on each item in order; a failure is that item's result.
    static func each<Item, Output>(_ items: [Item], _ body: (Item) async throws -> Output) async -> [Result<Output, any Error>] {
        var results: [Result<Output, any Error>] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                results.append(.success(try await body(item)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Re-encrypts a caller's value under the primary key version (`crypto:rewrap`).
    public func rewrap(_ ciphertext: String, context: String, _ principal: Principal) async throws -> FieldEnvelope {
        try await require("crypto:rewrap", principal)
        return try await cipher.rewrap(ciphertext, context: try Self.callerContext(context))
    }

    /// The keyring's state (`keys:read`).
    public func keyring(_ principal: Principal) async throws -> Keyring {
        try await require("keys:read", principal)
        return cipher.keyring
    }

    /// Rotates the field key (`keys:manage`); the audit log names the caller. With keys shared by nodes
    /// the new version is published first and becomes primary once every live node holds it
    /// (``KeyRollout``); the keyring returned then shows it `published`.
    public func rotateKeys(_ principal: Principal) async throws -> Keyring {
        try await require("keys:manage", principal)
        return try await KeyringAttribution.$actor.withValue(principal.context.actor) {
            if let rollout { return try await rollout.rotateFieldKey() }
            return try await cipher.rotate()
        }
    }

    /// A caller's context bound into the caller domain.
    ///
    /// - Throws: ``AuthError/Code/invalidRequest`` for an empty or oversized context.
    public static func callerContext(_ context: String) throws -> String {
        guard !context.isEmpty, context.utf8.count <= maxCallerContextBytes else {
            throw AuthError(.invalidRequest, "`context` (the field the value belongs to, e.g. users/email/42) must be 1–\(maxCallerContextBytes) bytes")
        }
        return callerDomain + context
    }
}
