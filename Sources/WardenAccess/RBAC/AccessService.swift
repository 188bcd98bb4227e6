public import Foundation
public import WardenCore

/// Granting and revoking roles, with audit events.
public struct AccessService: Sendable {
    let store: any AccessStore
    let clock: any WallClock

    public init(store: any AccessStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    public func roles() async throws -> RoleSet {
        RoleSet(try await store.roles())
    }

    /// Grants `role` to `account`, optionally until `expires`.
    public func grant(_ role: String, to account: Account, expires: Date? = nil, context: AuditContext) async throws {
        let now = clock.now()
        if let expires, expires <= now {
            throw AccessError(.invalidRole, "the expiry must be in the future")
        }
        var details = ["role": role]
        if let expires { details["expires"] = expires.formatted(.iso8601) }
        try await store.grant(
            Grant(accountID: account.id, role: role, granted: now, expires: expires, grantedBy: context.actor),
            audit: [context.event("role.granted", subject: account.subject, details: details, at: now)])
    }

    /// Revokes `role` from `account`; returns whether it was held.
    @discardableResult
    public func revoke(_ role: String, from account: Account, context: AuditContext) async throws -> Bool {
        let now = clock.now()
        return try await store.revoke(
            role: role, accountID: account.id,
            audit: [context.event("role.revoked", subject: account.subject, details: ["role": role], at: now)])
    }

    public func grants(of account: Account) async throws -> [Grant] {
        try await store.grants(accountID: account.id)
    }
}
