public import Crypto
public import Foundation
import WardenCore

/// The key that protects the keyring: 256 random bits, supplied by the operator.
///
/// The master key never encrypts data itself. Three purpose-bound keys are derived from it with
/// HKDF-SHA256 (RFC 5869, no salt, distinct `info` labels): one wraps data keys, one authenticates the
/// stored keyring document, and one produces the check value that tells a wrong master key from a
/// corrupt keyring before anything is written.
public struct MasterKey: Sendable {
    let wrappingKey: SymmetricKey
    let integrityKey: SymmetricKey
    /// The key that authenticates the audit log's chain (HKDF `info` `warden/audit/mac/v1`). Derived from
    /// the master key rather than a data key version, so rotating or retiring data keys never breaks the
    /// verification of old entries.
    public let auditKey: SymmetricKey
    /// The key for keyed hashes of one-time codes, backup codes and challenge tokens (HKDF `info`
    /// `warden/mfa/hash/v1`): a stolen database alone does not allow guessing them offline.
    public let secretHashKey: SymmetricKey
    /// The key for tags of identifiers recorded in the audit log in place of their text (HKDF `info`
    /// `warden/audit/identifier/v1`): a username typed at a failed login may be a password.
    public let identifierKey: SymmetricKey
    /// The key that seals backups written by `warden migrate` (HKDF `info` `warden/backup/v1`): a backup
    /// of legacy values is as secret as the values, and opens only with the master key.
    public let backupKey: SymmetricKey
    /// The key that authenticates the web console's form tokens (HKDF `info` `warden/console/v1`): every
    /// node sharing the master key accepts the forms another rendered.
    public let consoleKey: SymmetricKey
    /// A value stored with the keyring; a different master key gives a different value.
    let checkValue: Data

    /// Byte length of a master key.
    public static let byteCount = 32

    /// Creates a master key from exactly 32 bytes.
    ///
    /// - Throws: ``WardenCryptoError/Code/invalidMasterKey`` for any other length.
    public init(bytes: some ContiguousBytes) throws(WardenCryptoError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == Self.byteCount * 8 else {
            throw WardenCryptoError(.invalidMasterKey, "the master key must be exactly \(Self.byteCount) bytes (got \(key.bitCount / 8))")
        }
        wrappingKey = Self.derive(key, "warden/keyring/wrap/v1")
        integrityKey = Self.derive(key, "warden/keyring/integrity/v1")
        auditKey = Self.derive(key, "warden/audit/mac/v1")
        secretHashKey = Self.derive(key, "warden/mfa/hash/v1")
        identifierKey = Self.derive(key, "warden/audit/identifier/v1")
        backupKey = Self.derive(key, "warden/backup/v1")
        consoleKey = Self.derive(key, "warden/console/v1")
        checkValue = Self.derive(key, "warden/keyring/check/v1").withUnsafeBytes { Data($0) }
    }

    /// Creates a master key from its base64 text (standard or URL-safe alphabet, padded or not;
    /// surrounding whitespace is ignored).
    ///
    /// - Throws: ``WardenCryptoError/Code/invalidMasterKey`` if the text is not base64 of 32 bytes. The
    ///   message never repeats the text.
    public init(base64 text: String) throws(WardenCryptoError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard
            let bytes = Base64.decode(trimmed, alphabet: .standard, padding: .optional)
                ?? Base64.decode(trimmed, alphabet: .url, padding: .optional)
        else {
            throw WardenCryptoError(.invalidMasterKey, "the master key is not valid base64")
        }
        try self.init(bytes: bytes)
    }

    /// A new random master key and its base64 text, for first-run setup.
    public static func generate() -> (key: MasterKey, base64: String) {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        // Force-try: 32 bytes is always a valid length.
        return (try! MasterKey(bytes: bytes), Base64.encode(bytes))
    }

    private static func derive(_ key: SymmetricKey, _ label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(label.utf8), outputByteCount: 32)
    }
}
