import Crypto
import CryptoExtras
public import Foundation
import WardenCore

/// The keys of the original Python system, needed to read the data it wrote.
///
/// - `DIGITAL_TWIN_MASTER_KEY` (URL-safe base64; the original never checked its length): per-version
///   AES-256-GCM keys for its JSON envelopes are derived from it with PBKDF2-HMAC-SHA256, 100,000
///   iterations, salt = version string ‖ `digital_twin_salt`.
/// - `DIGITAL_TWIN_ENCRYPTION_KEY`, read two ways: as a Fernet key (32 bytes, decoded as Python's
///   `base64.urlsafe_b64decode` decodes it, which accepts both alphabets: the digital-twin module required a
///   standard-alphabet key, often with `+` or `/`), and as standard base64 of 32 bytes (decoded as
///   `base64.b64decode` decodes it) from which the digital-twin database derived its Fernet key with
///   PBKDF2-HMAC-SHA256 (100,000 iterations, salt `digital_twin_salt_aivillage_2025`). A token's HMAC
///   tells which of the two wrote it.
public struct LegacyKeys: Sendable {
    /// Environment variable names, Warden's first, then the original system's.
    public static let masterKeyVariables = ["WARDEN_LEGACY_MASTER_KEY", "DIGITAL_TWIN_MASTER_KEY"]
    public static let encryptionKeyVariables = ["WARDEN_LEGACY_ENCRYPTION_KEY", "DIGITAL_TWIN_ENCRYPTION_KEY"]
    /// Optional comma-separated allow-list of JSON envelope versions.
    public static let versionsVariable = "WARDEN_LEGACY_KEY_VERSIONS"

    /// Decoded `DIGITAL_TWIN_MASTER_KEY`.
    let masterKey: [UInt8]?
    /// `DIGITAL_TWIN_ENCRYPTION_KEY` as a raw Fernet key, when it decodes as one.
    let fernetKey: FernetKey?
    /// The 32 bytes from which the digital-twin database's Fernet key is derived, when it decodes so.
    let twinKeyMaterial: [UInt8]?
    /// JSON envelope versions that may be opened; `nil` accepts any version in the original's pattern.
    public let allowedVersions: Set<String>?
    /// Maximum age of Fernet tokens; `nil` (the original's behaviour) means no limit.
    public let fernetTimeToLive: TimeInterval?

    /// Creates the legacy key set.
    ///
    /// - Parameters:
    ///   - masterKey: The text of `DIGITAL_TWIN_MASTER_KEY`.
    ///   - encryptionKey: The text of `DIGITAL_TWIN_ENCRYPTION_KEY`, decoded as the original decoded it
    ///     (Python's lenient decoders: both alphabets for the Fernet reading, characters outside the
    ///     alphabet ignored, padding required).
    ///   - allowedVersions: JSON envelope versions that may be opened (each costs a PBKDF2 derivation
    ///     the first time it is seen); `nil` allows any version in the original's pattern.
    ///   - fernetTimeToLive: Maximum token age, if any.
    /// - Throws: ``WardenCryptoError/Code/invalidLegacyKey`` for a key that cannot be decoded. Messages
    ///   never repeat the key.
    public init(masterKey: String? = nil, encryptionKey: String? = nil, allowedVersions: Set<String>? = nil, fernetTimeToLive: TimeInterval? = nil) throws(WardenCryptoError) {
        if let masterKey {
            let text = masterKey.trimmingCharacters(in: .whitespacesAndNewlines)
            guard
                let bytes = Base64.decode(text, alphabet: .url, padding: .optional)
                    ?? Base64.decode(text, alphabet: .standard, padding: .optional), !bytes.isEmpty
            else { throw WardenCryptoError(.invalidLegacyKey, "the legacy master key (DIGITAL_TWIN_MASTER_KEY) is not base64") }
            self.masterKey = bytes
        } else {
            self.masterKey = nil
        }
        if let encryptionKey {
            // Exactly as the original decoded it, each reading with its own Python decoder: a key the
            // original accepted opens its data, and no other key is invented.
            fernetKey = PythonBase64.urlsafeDecode(encryptionKey).flatMap { FernetKey(bytes: $0) }
            twinKeyMaterial = PythonBase64.standardDecode(encryptionKey).flatMap { $0.count == 32 ? $0 : nil }
            guard fernetKey != nil || twinKeyMaterial != nil else {
                throw WardenCryptoError(.invalidLegacyKey, "the legacy encryption key (DIGITAL_TWIN_ENCRYPTION_KEY) is not base64 of 32 bytes")
            }
        } else {
            fernetKey = nil
            twinKeyMaterial = nil
        }
        self.allowedVersions = allowedVersions
        self.fernetTimeToLive = fernetTimeToLive
    }

    /// Reads the legacy keys from the environment, or returns `nil` when none is set.
    public static func fromEnvironment(_ environment: [String: String]) throws(WardenCryptoError) -> LegacyKeys? {
        func first(_ names: [String]) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let master = first(masterKeyVariables)
        let encryption = first(encryptionKeyVariables)
        guard master != nil || encryption != nil else { return nil }
        let versions = environment[versionsVariable].map {
            Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        return try LegacyKeys(masterKey: master, encryptionKey: encryption, allowedVersions: versions)
    }

    /// The digital-twin database's Fernet key, derived from `twinKeyMaterial` (100,000 PBKDF2 rounds).
    func deriveTwinFernetKey() -> FernetKey? {
        guard let twinKeyMaterial else { return nil }
        // The original's iteration count is below swift-crypto's floor, hence the unchecked variant.
        guard
            let derived = try? KDF.Insecure.PBKDF2.deriveKey(
                from: twinKeyMaterial, salt: Array("digital_twin_salt_aivillage_2025".utf8),
                using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: 100_000)
        else { return nil }
        return derived.withUnsafeBytes { FernetKey(bytes: Array($0)) }
    }

    /// The AES-256-GCM key the original derived for JSON envelope `version`.
    func deriveVersionKey(_ version: String) -> SymmetricKey? {
        guard let masterKey else { return nil }
        return try? KDF.Insecure.PBKDF2.deriveKey(
            from: masterKey, salt: Array((version + "digital_twin_salt").utf8),
            using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: 100_000)
    }
}
