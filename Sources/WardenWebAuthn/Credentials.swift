/// A passkey a registration ceremony verified, ready to be stored with its account.
public struct NewCredential: Sendable {
    /// The credential id (`rawId`), 1 to 1023 bytes.
    public let credentialID: [UInt8]
    /// The credential public key; store `publicKey.bytes`.
    public let publicKey: COSEKey
    /// The signature counter at registration; 0 when the authenticator keeps none.
    public let signCount: UInt32
    /// The authenticator model's AAGUID (16 bytes).
    public let aaguid: [UInt8]
    /// `"none"` or `"packed"`.
    public let attestationFormat: String
    public let userVerified: Bool
    /// Whether the passkey may be synced (BE); fixed for the credential's life.
    public let backupEligible: Bool
    /// Whether the passkey is backed up now (BS).
    public let backedUp: Bool
    /// Transport hints to pass back in `allowCredentials`/`excludeCredentials`.
    public let transports: [String]
}

/// What Warden stored about a passkey, as an assertion needs it.
public struct StoredCredential: Sendable {
    public let credentialID: [UInt8]
    /// The COSE encoding (`NewCredential.publicKey.bytes`).
    public let publicKey: [UInt8]
    /// The highest signature counter seen so far.
    public let signCount: UInt32
    /// The user handle (`user.id`) the credential was created for; when given, a response that carries a
    /// different handle is refused.
    public let userHandle: [UInt8]?

    public init(credentialID: [UInt8], publicKey: [UInt8], signCount: UInt32, userHandle: [UInt8]? = nil) {
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.signCount = signCount
        self.userHandle = userHandle
    }
}

/// The result of a verified assertion.
public struct AssertionOutcome: Sendable {
    /// The counter the authenticator reported; store it when `counterRegressed` is false.
    public let signCount: UInt32
    public let userVerified: Bool
    public let backupEligible: Bool
    public let backedUp: Bool
    /// The counter did not increase although the authenticator keeps one (§6.1.1): the credential may
    /// have been cloned.
    ///
    /// - Important: the signature verified, but the caller must not treat this as a successful login:
    ///   flag the credential, audit and refuse.
    public let counterRegressed: Bool
}
