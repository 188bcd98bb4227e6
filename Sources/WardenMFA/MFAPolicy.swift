public import Foundation
public import WardenCore

/// Multi-factor settings. Defaults follow NIST SP 800-63B where it speaks.
public struct MFAPolicy: Sendable, Equatable {
    /// Shown by authenticator apps above the account name.
    public var issuer = "Warden"

    // TOTP
    public var totpAlgorithm = OTPAlgorithm.sha1
    public var totpDigits = 6
    public var totpPeriod = 30
    /// Steps accepted either side of the server's current step. One step (±30 s) absorbs a phone clock a
    /// little off and the time it takes to type a code; two or more would hand an attacker a wider target
    /// for no real gain.
    public var totpWindow = 1
    /// Random secret length; at least 20 bytes (160 bits, RFC 4226's recommendation).
    public var totpSecretBytes = 20
    /// Unconfirmed enrollments are dropped after this.
    public var enrollmentLifetime: TimeInterval = 15 * 60

    // SMS and email codes
    public var codeDigits = 6
    /// Validity of a sent code (default 5 minutes, at most 10).
    public var codeLifetime: TimeInterval = 5 * 60
    /// Wrong guesses allowed per sent code before it is void.
    public var codeAttempts = 5
    /// Codes sent per account, and per destination (phone number or address).
    public var sendsPerAccount = RateLimit(limit: 5, window: 15 * 60)
    public var sendsPerDestination = RateLimit(limit: 5, window: 3600)
    /// Codes sent on requests from one source address (all accounts).
    public var sendsPerAddress = RateLimit(limit: 20, window: 3600)
    /// Verifications per source address (all accounts), and per account.
    public var verificationsPerAddress = RateLimit(limit: 30, window: 5 * 60)
    public var verificationsPerAccount = RateLimit(limit: 20, window: 5 * 60)

    // Login challenge
    public var challengeLifetime: TimeInterval = 5 * 60

    // Lockout
    /// Consecutive failures that lock MFA for the account (every factor).
    public var lockThreshold = 5
    /// The first lock's length; each further lock lasts twice as long, up to a day.
    public var lockDuration: TimeInterval = 5 * 60
    /// Consecutive failures after which MFA stops until an administrator resets it (SP 800-63B: 100).
    public var hardStop = 100

    /// How recent an MFA-level authentication must be to change factors, disable MFA or regenerate
    /// backup codes.
    public var recentAuthentication: TimeInterval = 15 * 60

    // Backup codes
    public var backupCodeCount = 10
    /// Characters per code from ``BackupCodes/alphabet`` (30 symbols: 12 characters carry 58.9 bits).
    public var backupCodeLength = 12

    public init() {}

    /// The policy, if every value is within its range.
    public func validated() throws(MFAError) -> MFAPolicy {
        guard (6...8).contains(totpDigits), (6...8).contains(codeDigits), totpSecretBytes >= 20, (0...2).contains(totpWindow),
            codeLifetime > 0, codeLifetime <= 600, codeAttempts >= 1, challengeLifetime > 0, challengeLifetime <= 300,
            lockThreshold >= 1, hardStop >= lockThreshold, hardStop <= 100, backupCodeCount >= 1,
            Double(backupCodeLength) * log2(Double(BackupCodes.alphabet.count)) >= 50
        else { throw MFAError(.invalidParameters, "the MFA policy is out of range (see docs/mfa.md)") }
        return self
    }
}
