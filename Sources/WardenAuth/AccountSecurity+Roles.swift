public import Foundation
public import WardenAccess
import WardenCore

extension AccountSecurity {
    /// Grants `role` to `target`, optionally until `expires`.
    ///
    /// An account may grant a role only when it already holds every permission the role gives (so
    /// `roles:manage` is never a way to more power), never to itself (a second administrator must), and
    /// every refusal is audited. The command line's operator may grant any role.
    public func grantRole(_ role: String, to target: Account, expires: Date? = nil, _ principal: Principal) async throws {
        try await require("roles:manage", principal)
        let roles = try await access.roles()
        // The role is a field of the request, not the resource it names: an unknown one is a bad request.
        guard roles.roles[role] != nil else { throw AuthError(.invalidRequest, "no such role") }
        if principal.accountID == target.id {
            try await refuse("role.grant_refused", subject: target.subject, reason: "self_grant", principal, details: ["role": role])
            throw AuthError(.forbidden, "an account cannot grant roles to itself; ask another administrator")
        }
        guard try await holdsAll(roles.effectivePermissions(of: role), principal) else {
            try await refuse("role.grant_refused", subject: target.subject, reason: "role_exceeds_granter", principal, details: ["role": role])
            throw AuthError(.forbidden, "you may grant only roles whose permissions you hold yourself")
        }
        try await access.grant(role, to: target, expires: expires, context: principal.context)
    }

    /// Revokes `role` from `target`; returns whether it was held.
    ///
    /// The same rule as granting (every permission of the role held by the revoker), and the last active
    /// holder of `super_admin` keeps it.
    @discardableResult
    public func revokeRole(_ role: String, from target: Account, _ principal: Principal) async throws -> Bool {
        try await require("roles:manage", principal)
        let roles = try await access.roles()
        guard roles.roles[role] != nil else { throw AccessError(.roleNotFound, "no such role") }
        guard try await holdsAll(roles.effectivePermissions(of: role), principal) else {
            try await refuse("role.revoke_refused", subject: target.subject, reason: "role_exceeds_revoker", principal, details: ["role": role])
            throw AuthError(.forbidden, "you may revoke only roles whose permissions you hold yourself")
        }
        if role == Self.superAdmin {
            try await requireAnotherSuperAdmin(besides: target, principal, action: "role.revoke_refused")
        }
        return try await access.revoke(role, from: target, context: principal.context)
    }

    static let superAdmin = "super_admin"

    /// Throws ``AuthError/Code/conflict`` (audited) when `target` is the last active account holding an
    /// unexpired `super_admin` grant: Warden is never left without one.
    func requireAnotherSuperAdmin(besides target: Account, _ principal: Principal, action: String) async throws {
        let now = clock.now()
        guard try await access.grants(of: target).contains(where: { $0.role == Self.superAdmin && $0.isActive(at: now) }) else { return }
        for account in try await accounts.accounts() where account.id != target.id && account.status != .disabled {
            if try await access.grants(of: account).contains(where: { $0.role == Self.superAdmin && $0.isActive(at: now) }) { return }
        }
        try await refuse(action, subject: target.subject, reason: "last_super_admin", principal)
        throw AuthError(.conflict, "this is the last super_admin; grant the role to another account first")
    }
}
