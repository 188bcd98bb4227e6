import Crypto
public import Foundation
import WardenCore

/// Writers for the original system's formats, for benchmarks and tests only.
///
/// Warden never writes legacy data in operation; these exist so benchmarks can build inputs without
/// Python and tests can cover edge cases. They are behind an SPI so that no ordinary client sees them.
@_spi(LegacyWriters)
public enum LegacyWriters {
    /// A JSON envelope exactly as the original's `encrypt_sensitive_field` wrote it (Python `json.dumps`
    /// with default separators).
    public static func jsonEnvelope(_ plaintext: some DataProtocol, version: String, keys: LegacyKeys, iv: [UInt8]? = nil) throws -> Data {
        guard let key = keys.deriveVersionKey(version) else {
            throw WardenCryptoError(.legacyKeyMissing, "no legacy master key")
        }
        let nonce = try iv.map { try AES.GCM.Nonce(data: $0) } ?? AES.GCM.Nonce()
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce)
        let json =
            "{\"version\": \"\(version)\", \"iv\": \"\(Base64.encode(Array(nonce)))\", "
            + "\"tag\": \"\(Base64.encode(Array(box.tag)))\", \"data\": \"\(Base64.encode(Array(box.ciphertext)))\", "
            + "\"algorithm\": \"AES-256-GCM\"}"
        return Data(json.utf8)
    }

    /// A Fernet token under `DIGITAL_TWIN_ENCRYPTION_KEY` used as the Fernet key.
    public static func fernetToken(_ plaintext: some DataProtocol, keys: LegacyKeys, timestamp: UInt64, iv: [UInt8]) throws -> String {
        guard let key = keys.fernetKey else { throw WardenCryptoError(.legacyKeyMissing, "no legacy Fernet key") }
        return try Fernet.makeToken(plaintext, key: key, iv: iv, timestamp: timestamp)
    }

    /// A Fernet token as the digital-twin database wrote it: derived key, `{"data": ..., "meta": ...}` payload.
    public static func twinFernetToken(_ value: String, field: String, keys: LegacyKeys, timestamp: UInt64, iv: [UInt8]) throws -> String {
        guard let key = keys.deriveTwinFernetKey() else { throw WardenCryptoError(.legacyKeyMissing, "no legacy encryption key") }
        let payload: [String: Any] = [
            "data": value,
            "meta": ["field": field, "encrypted_at": "2025-08-29T12:00:00", "compliance_flags": ["coppa": false, "ferpa": false, "gdpr": true]],
        ]
        return try Fernet.makeToken(try JSONSerialization.data(withJSONObject: payload), key: key, iv: iv, timestamp: timestamp)
    }
}
