public import Foundation
import WardenCore

/// An account as the rest of Warden sees it: contact details already opened.
public struct Account: Sendable, Hashable, Identifiable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// May log in.
        case active
        /// Switched off by an administrator.
        case disabled
        /// Written by earlier Warden versions for a password lock; read as active (a password lock is
        /// `lockedUntil` and the failure count, and never stops sessions). Warden no longer sets it.
        case locked
    }

    public let id: UUID
    /// As chosen (NFKC-normalised); unique regardless of case.
    public var username: String
    public var email: String?
    public var phone: String?
    public var status: Status
    /// Until when password logins from untrusted devices are refused, if a lock is or was set.
    public var lockedUntil: Date?
    public var created: Date
    public var updated: Date

    public init(id: UUID, username: String, email: String?, phone: String?, status: Status, lockedUntil: Date?, created: Date, updated: Date) {
        self.id = id
        self.username = username
        self.email = email
        self.phone = phone
        self.status = status
        self.lockedUntil = lockedUntil
        self.created = created
        self.updated = updated
    }

    /// The account as an audit subject.
    public var subject: String { AuditSubject.account(id) }
}

/// An account as stored: contact details as stored (sealed when sensitive), and credentials.
public struct StoredAccount: Sendable, Hashable {
    public var id: UUID
    public var username: String
    /// The uniqueness key: NFKC-normalised and case-folded username.
    public var usernameKey: String
    /// The email, sealed (`wd1:…`) when emails are configured as sensitive, else as given.
    public var email: String?
    /// The phone number, always sealed.
    public var phone: String?
    public var status: Account.Status
    /// The password hash string (see `PasswordHash`), or `nil` for an account that cannot log in.
    public var passwordHash: String?
    public var failedLogins: Int
    public var lockedUntil: Date?
    public var created: Date
    public var updated: Date

    public init(
        id: UUID, username: String, usernameKey: String, email: String?, phone: String?, status: Account.Status,
        passwordHash: String?, failedLogins: Int, lockedUntil: Date?, created: Date, updated: Date
    ) {
        self.id = id
        self.username = username
        self.usernameKey = usernameKey
        self.email = email
        self.phone = phone
        self.status = status
        self.passwordHash = passwordHash
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.created = created
        self.updated = updated
    }
}
