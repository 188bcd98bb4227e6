public import Foundation
public import WardenCore

/// Decides whether an account may do something: deny by default, allow only what an active account's
/// unexpired grants give it, with inheritance.
///
/// Grants are read from the store on every check, so a grant or revocation takes effect at the next
/// check on every node, not when some token or cache expires. (The role catalog itself is fixed by the
/// schema's migrations; the SQL store reads it once.)
public struct Authorizer: Sendable {
    let store: any AccessStore
    let clock: any WallClock

    public init(store: any AccessStore, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.clock = clock
    }

    /// The permissions `account` holds now (empty for a disabled account). A password lock does not
    /// matter here: it stops password logins, never what an existing session may do.
    public func permissions(of account: Account) async throws -> Set<Permission> {
        let now = clock.now()
        guard account.status != .disabled else { return [] }
        let grants = try await store.grants(accountID: account.id).filter { $0.isActive(at: now) }
        guard !grants.isEmpty else { return [] }
        let roles = RoleSet(try await store.roles())
        return grants.reduce(into: Set<Permission>()) { $0.formUnion(roles.effectivePermissions(of: $1.role)) }
    }

    /// The permissions the account `id` holds now, from one read of its status and grants; nil if there
    /// is no such account or it is disabled.
    public func permissions(ofAccount id: UUID) async throws -> Set<Permission>? {
        guard let standing = try await store.standing(accountID: id), standing.status != .disabled else { return nil }
        let now = clock.now()
        let grants = standing.grants.filter { $0.isActive(at: now) }
        guard !grants.isEmpty else { return [] }
        let roles = RoleSet(try await store.roles())
        return grants.reduce(into: Set<Permission>()) { $0.formUnion(roles.effectivePermissions(of: $1.role)) }
    }

    /// Whether `account` holds `permission` now.
    public func isAllowed(_ account: Account, _ permission: Permission) async throws -> Bool {
        try await permissions(of: account).contains { $0.covers(permission) }
    }
}
