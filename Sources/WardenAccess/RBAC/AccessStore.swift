public import Foundation
public import WardenAudit
public import WardenCore

/// Where roles and grants live. Changes take their audit events and append them atomically.
public protocol AccessStore: AuditAppender {
    /// Every role.
    func roles() async throws -> [Role]
    /// Every grant held by `accountID`, expired ones included.
    func grants(accountID: UUID) async throws -> [Grant]
    /// The account's status and every grant it holds, in one read (nil: no such account): what a
    /// permission check needs, without the account's sealed details.
    func standing(accountID: UUID) async throws -> AccountStanding?
    /// Grants a role (replacing an earlier grant of the same role, e.g. to change its expiry).
    ///
    /// - Throws: ``AccessError/Code/roleNotFound`` or ``AccessError/Code/accountNotFound``.
    func grant(_ grant: Grant, audit: [AuditEvent]) async throws
    /// Revokes a role; returns whether the account held it.
    func revoke(role: String, accountID: UUID, audit: [AuditEvent]) async throws -> Bool
}

/// What a permission check reads about an account (``AccessStore/standing(accountID:)``).
public struct AccountStanding: Sendable, Equatable {
    public let status: Account.Status
    /// Every grant, expired ones included.
    public let grants: [Grant]

    public init(status: Account.Status, grants: [Grant]) {
        self.status = status
        self.grants = grants
    }
}
