public import Foundation

/// Everything Warden holds about one account's second factors, stored as one document so that every
/// check and change is one atomic read-modify-write of one row (``MFAStore/updateMFA(accountID:_:)``):
/// a TOTP step, a backup code or an emailed code can be used at most once however many nodes race.
///
/// Secrets inside are sealed with Warden's field encryption, bound to the account and factor; codes and
/// challenge tokens are kept only as keyed hashes.
public struct MFAState: Codable, Sendable, Equatable {
    public var factors: [Factor] = []
    public var backupCodes: [BackupCode] = []
    public var backupCodesGenerated: Date?
    public var pendingCodes: [PendingCode] = []
    public var challenges: [Challenge] = []
    public var failures = Failures()
    /// Registered passkeys (WebAuthn credentials).
    public var passkeys: [Passkey] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case factors, backupCodes, backupCodesGenerated, pendingCodes, challenges, failures, passkeys
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        factors = try container.decodeIfPresent([Factor].self, forKey: .factors) ?? []
        backupCodes = try container.decodeIfPresent([BackupCode].self, forKey: .backupCodes) ?? []
        backupCodesGenerated = try container.decodeIfPresent(Date.self, forKey: .backupCodesGenerated)
        pendingCodes = try container.decodeIfPresent([PendingCode].self, forKey: .pendingCodes) ?? []
        challenges = try container.decodeIfPresent([Challenge].self, forKey: .challenges) ?? []
        failures = try container.decodeIfPresent(Failures.self, forKey: .failures) ?? Failures()
        // Written by versions with passkeys; absent from state written before.
        passkeys = try container.decodeIfPresent([Passkey].self, forKey: .passkeys) ?? []
    }

    /// A passkey: a WebAuthn credential's public key and what its authenticator reported. Nothing here is
    /// secret (the private key never leaves the authenticator).
    public struct Passkey: Codable, Sendable, Equatable, Identifiable {
        public let id: UUID
        public var name: String
        /// The credential id, base64url.
        public let credentialID: String
        /// The COSE public key, base64url.
        public let publicKey: String
        /// The COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).
        public let algorithm: Int
        /// The highest signature counter seen (0: the authenticator keeps none).
        public var signCount: UInt32
        /// The authenticator model (AAGUID), hex; all zeros when not disclosed.
        public let aaguid: String
        public let attestationFormat: String
        public let transports: [String]
        /// Whether the passkey may be synced to other devices (fixed at registration).
        public let backupEligible: Bool
        /// Whether it was backed up (synced) at its last use.
        public var backedUp: Bool
        public let created: Date
        public var lastUsed: Date?
        /// Set when its signature counter went backwards (a cloned authenticator?): it no longer signs in
        /// until removed and registered again.
        public var flagged: Date?

        public var isUsable: Bool { flagged == nil }
    }

    /// A second factor: a TOTP device, or a phone or email address that receives codes.
    public struct Factor: Codable, Sendable, Equatable, Identifiable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case totp, sms, email
        }

        public let id: UUID
        public let kind: Kind
        public var name: String
        public let created: Date
        /// Set once a valid code confirmed the enrollment; unconfirmed factors never verify a login.
        public var confirmed: Date?
        /// Unconfirmed enrollments are dropped after this.
        public var enrollmentExpires: Date?
        /// TOTP: the sealed secret; SMS and email: the sealed destination.
        public var sealedSecret: String
        public var algorithm: OTPAlgorithm?
        public var digits: Int?
        public var period: Int?
        /// TOTP: the last step accepted; later codes must be for a later step (no replay).
        public var lastStep: Int64?
        public var lastUsed: Date?

        public var isConfirmed: Bool { confirmed != nil }
    }

    /// One backup code: a keyed hash with its own salt.
    public struct BackupCode: Codable, Sendable, Equatable {
        public let salt: String
        public let hash: String
        public var used: Date?
    }

    /// A code sent by SMS or email.
    public struct PendingCode: Codable, Sendable, Equatable {
        public let factorID: UUID
        public let salt: String
        public let hash: String
        public let created: Date
        public let expires: Date
        public var attempts: Int
    }

    /// A login waiting for its second factor.
    public struct Challenge: Codable, Sendable, Equatable {
        /// Keyed hash of the token handed to the client.
        public let hash: String
        public let device: String
        public let created: Date
        public let expires: Date
    }

    /// Consecutive failures, per factor kind and in all; and the lock they caused.
    public struct Failures: Codable, Sendable, Equatable {
        public var byKind: [String: Int] = [:]
        /// Consecutive failures across every factor since the last success (the NIST hard stop counts these).
        public var consecutive = 0
        public var lockedUntil: Date?
        /// How many temporary locks so far (each lasts twice the one before).
        public var locks = 0
        /// Set at the hard stop; only an administrator's reset clears it.
        public var stopped: Date?

        /// No failures, no lock.
        public init() {}
    }

    public var confirmedFactors: [Factor] { factors.filter(\.isConfirmed) }
    /// Whether a second factor is required at sign-in: a confirmed factor or a passkey — a blocked one
    /// included (its counter went backwards), so that blocking a passkey never turns MFA off.
    public var hasMFA: Bool { !confirmedFactors.isEmpty || !passkeys.isEmpty }
    public var remainingBackupCodes: Int { backupCodes.filter { $0.used == nil }.count }
}
