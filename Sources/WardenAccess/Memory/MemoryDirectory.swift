public import Foundation
public import WardenAudit
public import WardenCore

/// Accounts, roles and grants in memory, with an in-memory audit log: the reference implementation of
/// ``AccountStore`` and ``AccessStore`` for tests. Changes and their audit events are applied together
/// or not at all.
public actor MemoryDirectory: AccountStore, AccessStore {
    public let auditLog: MemoryAuditLog
    private var accountsByID: [UUID: StoredAccount] = [:]
    private var roleList: [Role]
    private var grantList: [Grant] = []

    public init(auditLog: MemoryAuditLog, roles: [Role] = RoleCatalog.defaults) {
        self.auditLog = auditLog
        roleList = roles
    }

    public func append(_ events: [AuditEvent]) throws {
        try auditLog.append(events)
    }

    // MARK: Accounts

    public func insert(_ account: StoredAccount, audit: [AuditEvent]) throws {
        guard !accountsByID.values.contains(where: { $0.usernameKey == account.usernameKey }) else {
            throw AccessError(.usernameTaken, "the username is taken")
        }
        try auditLog.append(audit)
        accountsByID[account.id] = account
    }

    public func account(id: UUID) -> StoredAccount? { accountsByID[id] }

    public func account(usernameKey: String) -> StoredAccount? {
        accountsByID.values.first { $0.usernameKey == usernameKey }
    }

    public func accounts() -> [StoredAccount] {
        accountsByID.values.sorted { $0.usernameKey < $1.usernameKey }
    }

    public func update(id: UUID, _ change: @escaping @Sendable (inout StoredAccount) throws -> [AuditEvent]) throws -> StoredAccount {
        guard var account = accountsByID[id] else { throw AccessError(.accountNotFound, "no such account") }
        let events = try change(&account)
        // No suspension point between the read above and the write below: the actor serialises callers,
        // and the audit append (which must succeed first) is synchronous.
        try auditLog.append(events)
        accountsByID[id] = account
        return account
    }

    public func delete(id: UUID, audit: [AuditEvent]) throws {
        guard accountsByID[id] != nil else { throw AccessError(.accountNotFound, "no such account") }
        try auditLog.append(audit)
        accountsByID[id] = nil
        grantList.removeAll { $0.accountID == id }
    }

    // MARK: Roles and grants

    public func roles() -> [Role] { roleList }

    public func grants(accountID: UUID) -> [Grant] {
        grantList.filter { $0.accountID == accountID }
    }

    public func standing(accountID: UUID) -> AccountStanding? {
        accountsByID[accountID].map { AccountStanding(status: $0.status, grants: grants(accountID: accountID)) }
    }

    public func grant(_ grant: Grant, audit: [AuditEvent]) throws {
        guard roleList.contains(where: { $0.name == grant.role }) else { throw AccessError(.roleNotFound, "no role named \(grant.role)") }
        guard accountsByID[grant.accountID] != nil else { throw AccessError(.accountNotFound, "no such account") }
        try auditLog.append(audit)
        grantList.removeAll { $0.accountID == grant.accountID && $0.role == grant.role }
        grantList.append(grant)
    }

    public func revoke(role: String, accountID: UUID, audit: [AuditEvent]) throws -> Bool {
        guard grantList.contains(where: { $0.accountID == accountID && $0.role == role }) else { return false }
        try auditLog.append(audit)
        grantList.removeAll { $0.accountID == accountID && $0.role == role }
        return true
    }
}
