public import WardenCore

/// An error from field encryption or key management.
///
/// Messages are safe to log and show: they never contain key bytes, plaintext or ciphertext. Every
/// authentication problem when opening a ciphertext (tampering, wrong context, malformed input) is the
/// single generic ``Code/decryptionFailed``; the precise reason goes only to the cipher's failure
/// observer (see ``FieldCipher/Configuration/failureObserver``), never to the caller.
public struct WardenCryptoError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, in a form callers can switch on. New codes may be added in any release.
    public typealias Code = ErrorCode<WardenCryptoError>

    /// What went wrong.
    public let code: Code
    /// A message safe to log and show.
    public let message: String
    /// The underlying error, when there is one. It is never part of ``description``.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Errors are equal when their codes and messages are; the cause is not compared.
    public static func == (lhs: WardenCryptoError, rhs: WardenCryptoError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    /// The one error callers get for any authentication problem.
    public static let decryptionFailed = WardenCryptoError(.decryptionFailed, "decryption failed")

    /// The error every hash or verification refused for load gets.
    public static let busy = WardenCryptoError(.busy, "password hashing is at capacity; try again shortly")
}

extension ErrorCode where Domain == WardenCryptoError {
    /// The ciphertext could not be opened. Deliberately says nothing more.
    public static var decryptionFailed: Self { Self("crypto.decryption_failed") }
    /// The ciphertext names a key version this keyring does not have.
    public static var unknownKeyVersion: Self { Self("crypto.unknown_key_version") }
    /// The key version is below the minimum decryption version.
    public static var retiredKeyVersion: Self { Self("crypto.retired_key_version") }
    /// The key version's material has been destroyed.
    public static var destroyedKeyVersion: Self { Self("crypto.destroyed_key_version") }
    /// The plaintext or ciphertext exceeds the configured size limit.
    public static var tooLarge: Self { Self("crypto.too_large") }
    /// The context is empty or too long.
    public static var invalidContext: Self { Self("crypto.invalid_context") }
    /// The input is in a legacy format whose key is not configured.
    public static var legacyKeyMissing: Self { Self("crypto.legacy_key_missing") }
    /// A legacy key is malformed.
    public static var invalidLegacyKey: Self { Self("crypto.invalid_legacy_key") }
    /// The master key is malformed (encoding or length).
    public static var invalidMasterKey: Self { Self("crypto.invalid_master_key") }
    /// No master key is configured and none may be generated.
    public static var masterKeyMissing: Self { Self("crypto.master_key_missing") }
    /// The master key does not match the keyring's check value.
    public static var wrongMasterKey: Self { Self("crypto.wrong_master_key") }
    /// The stored keyring failed its integrity check or could not be parsed.
    public static var keyringCorrupt: Self { Self("crypto.keyring_corrupt") }
    /// The keyring store could not be read or written.
    public static var storeFailure: Self { Self("crypto.store_failure") }
    /// The requested key-management operation is not allowed in the keyring's current state.
    public static var invalidOperation: Self { Self("crypto.invalid_operation") }
    /// Password hashing is at capacity (every thread busy, the queue full); nothing was computed.
    /// Load shedding, not a verdict on the password: try again shortly.
    public static var busy: Self { Self("crypto.busy") }
}
