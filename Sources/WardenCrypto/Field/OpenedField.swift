public import Foundation

/// A field's plaintext and what it was sealed with.
public struct OpenedField: Sendable {
    /// What sealed a ciphertext.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        /// A Warden envelope under this key version.
        case envelope(keyVersion: UInt32)
        /// The original system's AES-256-GCM JSON envelope, with its version string.
        case legacyJSON(version: String)
        /// A Fernet token under `DIGITAL_TWIN_ENCRYPTION_KEY` used as the Fernet key.
        case legacyFernet
        /// A Fernet token from the digital-twin database (key derived from `DIGITAL_TWIN_ENCRYPTION_KEY`,
        /// value wrapped in `{"data": ...}`).
        case legacyTwinFernet

        /// The format's stable name: `envelope`, `legacy-json`, `legacy-fernet` or `legacy-twin-fernet`.
        public var format: String {
            switch self {
            case .envelope: "envelope"
            case .legacyJSON: "legacy-json"
            case .legacyFernet: "legacy-fernet"
            case .legacyTwinFernet: "legacy-twin-fernet"
            }
        }

        /// The Warden key version, for envelopes.
        public var keyVersion: UInt32? {
            if case .envelope(let version) = self { return version }
            return nil
        }

        public var description: String {
            switch self {
            case .envelope(let version): "key version \(version)"
            case .legacyJSON(let version): "legacy-json (\(version))"
            default: format
            }
        }
    }

    /// The plaintext.
    public let plaintext: Data
    /// What sealed it.
    public let source: Source
    /// Whether the value should be rewrapped: it is in a legacy format, which binds no context, or under
    /// a key version other than the primary. Callers can upgrade on read with
    /// ``FieldCipher/openUpgrading(_:context:)-(String,_)``, which returns the value sealed anew, or
    /// re-encrypt with ``FieldCipher/rewrap(_:context:)``.
    public let needsRewrap: Bool
}
