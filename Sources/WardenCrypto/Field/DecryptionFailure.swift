/// Why a ciphertext failed to open: the precise reason that callers never see.
///
/// A ``FieldCipher`` hands one of these to its failure observer (typically the audit log) each time it
/// answers ``WardenCryptoError/Code/decryptionFailed``. It names the format and the check that failed,
/// never any byte of the input or of a key.
public struct DecryptionFailure: Sendable, Equatable, CustomStringConvertible {
    /// The check that failed.
    public enum Reason: String, Sendable {
        /// The input matches none of the accepted formats.
        case unrecognisedFormat = "unrecognised_format"
        /// The input has a known prefix but a malformed structure (length, encoding, fields).
        case malformed
        /// The authentication tag or HMAC did not verify: tampering, a wrong key, or a wrong context.
        case authenticationFailed = "authentication_failed"
        /// A legacy Fernet token is older than the allowed time to live.
        case expired
        /// A legacy Fernet token's timestamp is too far in the future.
        case timestampInFuture = "timestamp_in_future"
        /// A legacy JSON envelope names a key version that is not in the original system's pattern or
        /// not in the configured allow-list.
        case invalidLegacyVersion = "invalid_legacy_version"
        /// A legacy payload decrypted but is not in the expected shape.
        case invalidPayload = "invalid_payload"
    }

    /// The format the input was recognised as (`envelope`, `legacy-json`, `legacy-fernet`, or `unknown`).
    public let format: String
    /// The check that failed.
    public let reason: Reason
    /// The context the caller supplied.
    public let context: String

    public init(format: String, reason: Reason, context: String) {
        self.format = format
        self.reason = reason
        self.context = context
    }

    public var description: String { "decryption failed (\(format), \(reason.rawValue)) for context \(context)" }
}
