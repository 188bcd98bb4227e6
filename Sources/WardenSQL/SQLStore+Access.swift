public import Foundation
import SQLKit
import Synchronization
public import WardenAccess
public import WardenCore

extension SQLStore: AccessStore {
    public func roles() async throws -> [Role] {
        if let cached = roleCatalog.withLock({ $0 }) { return cached }
        let roles = try await onConnection(.access) { database in
            let permissions = try await database.raw("SELECT role, permission FROM warden_role_permissions").all()
            var byRole: [String: Set<Permission>] = [:]
            for row in permissions {
                guard let permission = Permission(try row.string("permission")) else { continue }
                byRole[try row.string("role"), default: []].insert(permission)
            }
            return try await database.raw("SELECT name, summary, parent FROM warden_roles ORDER BY name").all().map { row in
                let name = try row.string("name")
                return Role(name: name, summary: try row.string("summary"), parent: try row.optionalString("parent"), permissions: byRole[name] ?? [])
            }
        }
        roleCatalog.withLock { $0 = roles }
        return roles
    }

    public func grants(accountID: UUID) async throws -> [Grant] {
        try await onConnection(.access) { database in
            try await database.raw("SELECT * FROM warden_grants WHERE account_id = \(bind: Self.key(accountID)) ORDER BY role").all().map { row in
                Grant(
                    accountID: accountID, role: try row.string("role"), granted: try row.date("granted_at"),
                    expires: try row.optionalDate("expires_at"), grantedBy: try row.string("granted_by"))
            }
        }
    }

    public func standing(accountID: UUID) async throws -> AccountStanding? {
        try await onConnection(.access) { database in
            let rows = try await database.raw(
                """
                SELECT a.status, g.role, g.granted_at, g.expires_at, g.granted_by FROM warden_accounts a \
                LEFT JOIN warden_grants g ON g.account_id = a.id WHERE a.id = \(bind: Self.key(accountID)) ORDER BY g.role
                """
            ).all()
            guard let first = rows.first else { return nil }
            guard let status = Account.Status(rawValue: try first.string("status")) else { throw SQLStoreError(.corrupt, "an account row cannot be read") }
            let grants = try rows.compactMap { row -> Grant? in
                guard let role = try row.optionalString("role") else { return nil }
                return Grant(
                    accountID: accountID, role: role, granted: try row.date("granted_at"), expires: try row.optionalDate("expires_at"),
                    grantedBy: try row.string("granted_by"))
            }
            return AccountStanding(status: status, grants: grants)
        }
    }

    public func grant(_ grant: Grant, audit: [AuditEvent]) async throws {
        try await inTransaction(.access) { [self] database in
            guard try await database.raw("SELECT name FROM warden_roles WHERE name = \(bind: grant.role)").first() != nil else {
                throw AccessError(.roleNotFound, "no role named \(grant.role)")
            }
            guard try await database.raw("SELECT id FROM warden_accounts WHERE id = \(bind: Self.key(grant.accountID))\(unsafeRaw: backend.kind.forUpdate)").first() != nil else {
                throw AccessError(.accountNotFound, "no such account")
            }
            try await database.raw("DELETE FROM warden_grants WHERE account_id = \(bind: Self.key(grant.accountID)) AND role = \(bind: grant.role)").run()
            try await database.raw(
                """
                INSERT INTO warden_grants (account_id, role, granted_at, expires_at, granted_by) \
                VALUES (\(bind: Self.key(grant.accountID)), \(bind: grant.role), \(bind: grant.granted.milliseconds), \
                \(bind: grant.expires?.milliseconds), \(bind: grant.grantedBy))
                """
            ).run()
            try await appendAudit(audit, on: database)
        }
    }

    public func revoke(role: String, accountID: UUID, audit: [AuditEvent]) async throws -> Bool {
        try await inTransaction(.access) { [self] database in
            let removed = try await database.raw(
                """
                DELETE FROM warden_grants WHERE account_id = \(bind: Self.key(accountID)) AND role = \(bind: role) RETURNING role
                """
            ).all()
            guard !removed.isEmpty else { return false }
            try await appendAudit(audit, on: database)
            return true
        }
    }
}
