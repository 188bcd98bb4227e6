/// The authenticator data an authenticator signs (WebAuthn L3 §6.1): the RP id hash, flags, the
/// signature counter and, on registration, the new credential.
///
/// Layout: `rpIdHash` (32) ‖ `flags` (1) ‖ `signCount` (4, big-endian) ‖ attested credential data (when
/// AT is set: AAGUID (16) ‖ credential id length (2) ‖ credential id ‖ COSE key) ‖ extensions (a CBOR map,
/// when ED is set). Parsing refuses trailing bytes, data the AT and ED flags do not announce (or announce
/// but leave out), backed-up without backup-eligible, credential ids over 1023 bytes and credential keys
/// Warden does not accept.
public struct AuthenticatorData: Sendable {
    /// The flags byte.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// UP: the user touched or otherwise confirmed presence.
        public static let userPresent = Flags(rawValue: 0x01)
        /// UV: the authenticator verified the user (PIN, biometrics).
        public static let userVerified = Flags(rawValue: 0x04)
        /// BE: the credential may be backed up or synced.
        public static let backupEligible = Flags(rawValue: 0x08)
        /// BS: the credential is backed up now.
        public static let backedUp = Flags(rawValue: 0x10)
        /// AT: attested credential data follows.
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        /// ED: extension outputs follow.
        public static let extensionData = Flags(rawValue: 0x80)
    }

    /// The credential an authenticator created (present when AT is set).
    public struct AttestedCredential: Sendable {
        /// The authenticator model's AAGUID (all zeros under attestation `none` on most platforms).
        public let aaguid: [UInt8]
        /// The credential id, 1 to 1023 bytes.
        public let credentialID: [UInt8]
        /// The credential public key.
        public let publicKey: COSEKey
    }

    /// Longest credential id WebAuthn allows (§5.8.3 / §6.5.1).
    public static let maxCredentialIDLength = 1023

    /// The bytes parsed, exactly as signed.
    public let raw: [UInt8]
    /// SHA-256 of the RP id the credential is scoped to.
    public let rpIDHash: [UInt8]
    public let flags: Flags
    /// The signature counter; 0 when the authenticator keeps none.
    public let signCount: UInt32
    public let attestedCredential: AttestedCredential?
    /// The extension outputs (a CBOR map) when ED is set.
    public let extensions: CBORValue?

    public var userPresent: Bool { flags.contains(.userPresent) }
    public var userVerified: Bool { flags.contains(.userVerified) }
    public var backupEligible: Bool { flags.contains(.backupEligible) }
    public var backedUp: Bool { flags.contains(.backedUp) }

    /// Parses `bytes` (at most 64 KiB).
    ///
    /// - Throws: `WebAuthnError` `.malformed` for anything not laid out as above, `.tooLarge` past the
    ///   limits, `.unsupportedAlgorithm` for a credential key Warden does not accept.
    public init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count <= 65_536 else { throw .tooLarge("the authenticator data is too large") }
        guard bytes.count >= 37 else { throw .malformed("the authenticator data is truncated") }
        raw = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        if flags.contains(.backedUp), !flags.contains(.backupEligible) {
            throw .malformed("the authenticator data says backed up but not backup eligible")
        }
        var offset = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count - offset >= 18 else { throw .malformed("the attested credential data is truncated") }
            let aaguid = Array(bytes[offset..<(offset + 16)])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard length > 0 else { throw .malformed("the credential id is empty") }
            guard length <= Self.maxCredentialIDLength else { throw .tooLarge("the credential id is too long") }
            guard bytes.count - offset >= length else { throw .malformed("the credential id is truncated") }
            let credentialID = Array(bytes[offset..<(offset + length)])
            offset += length
            let (key, consumed) = try CBORDecoder.decodePrefix(bytes[offset...])
            let publicKey = try COSEKey(value: key, bytes: Array(bytes[offset..<(offset + consumed)]))
            offset += consumed
            attestedCredential = AttestedCredential(aaguid: aaguid, credentialID: credentialID, publicKey: publicKey)
        } else {
            attestedCredential = nil
        }
        if flags.contains(.extensionData) {
            guard offset < bytes.count else { throw .malformed("the extension data is missing") }
            let (value, consumed) = try CBORDecoder.decodePrefix(bytes[offset...])
            guard value.mapEntries != nil else { throw .malformed("the extension data is not a map") }
            offset += consumed
            extensions = value
        } else {
            extensions = nil
        }
        guard offset == bytes.count else { throw .malformed("trailing bytes after the authenticator data") }
    }
}
