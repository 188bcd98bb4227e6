public import Foundation
import SQLKit
public import WardenAccess
public import WardenCore

extension SQLStore: AccountStore {
    public func insert(_ account: StoredAccount, audit: [AuditEvent]) async throws {
        do {
            try await inTransaction(.accounts) { [self] database in
                try await database.raw(
                    """
                    INSERT INTO warden_accounts (id, username, username_key, email, phone, status, password_hash, failed_logins, locked_until, created_at, updated_at) \
                    VALUES (\(bind: Self.key(account.id)), \(bind: account.username), \(bind: account.usernameKey), \(bind: account.email), \
                    \(bind: account.phone), \(bind: account.status.rawValue), \(bind: account.passwordHash), \(bind: Int64(account.failedLogins)), \
                    \(bind: account.lockedUntil?.milliseconds), \(bind: account.created.milliseconds), \(bind: account.updated.milliseconds))
                    """
                ).run()
                try await appendAudit(audit, on: database)
            }
        } catch  where isUniqueViolation(error) {
            throw AccessError(.usernameTaken, "the username is taken")
        }
    }

    public func account(id: UUID) async throws -> StoredAccount? {
        try await onConnection(.accounts) { database in
            try await database.raw("SELECT * FROM warden_accounts WHERE id = \(bind: Self.key(id))").first().map(Self.account)
        }
    }

    public func account(usernameKey: String) async throws -> StoredAccount? {
        try await onConnection(.accounts) { database in
            try await database.raw("SELECT * FROM warden_accounts WHERE username_key = \(bind: usernameKey)").first().map(Self.account)
        }
    }

    public func accounts() async throws -> [StoredAccount] {
        try await onConnection(.accounts) { database in
            try await database.raw("SELECT * FROM warden_accounts ORDER BY username_key").all().map(Self.account)
        }
    }

    public func update(id: UUID, _ change: @escaping @Sendable (inout StoredAccount) throws -> [AuditEvent]) async throws -> StoredAccount {
        try await inTransaction(.accounts) { [self] database in
            guard let row = try await database.raw("SELECT * FROM warden_accounts WHERE id = \(bind: Self.key(id))\(unsafeRaw: backend.kind.forUpdate)").first() else {
                throw AccessError(.accountNotFound, "no such account")
            }
            var account = try Self.account(row)
            let events = try change(&account)
            try await database.raw(
                """
                UPDATE warden_accounts SET username = \(bind: account.username), username_key = \(bind: account.usernameKey), \
                email = \(bind: account.email), phone = \(bind: account.phone), status = \(bind: account.status.rawValue), \
                password_hash = \(bind: account.passwordHash), failed_logins = \(bind: Int64(account.failedLogins)), \
                locked_until = \(bind: account.lockedUntil?.milliseconds), updated_at = \(bind: account.updated.milliseconds) \
                WHERE id = \(bind: Self.key(id))
                """
            ).run()
            try await appendAudit(events, on: database)
            return account
        }
    }

    public func delete(id: UUID, audit: [AuditEvent]) async throws {
        try await inTransaction(.accounts) { [self] database in
            try await database.raw("DELETE FROM warden_grants WHERE account_id = \(bind: Self.key(id))").run()
            let deleted = try await database.raw("DELETE FROM warden_accounts WHERE id = \(bind: Self.key(id)) RETURNING id").all()
            guard !deleted.isEmpty else { throw AccessError(.accountNotFound, "no such account") }
            try await appendAudit(audit, on: database)
        }
    }

    static func key(_ id: UUID) -> String { id.lowercasedText }

    static func account(_ row: any SQLRow) throws -> StoredAccount {
        guard let id = UUID(text: try row.string("id")),
            let status = Account.Status(rawValue: try row.string("status"))
        else { throw SQLStoreError(.corrupt, "an account row cannot be read") }
        return StoredAccount(
            id: id, username: try row.string("username"), usernameKey: try row.string("username_key"),
            email: try row.optionalString("email"), phone: try row.optionalString("phone"), status: status,
            passwordHash: try row.optionalString("password_hash"), failedLogins: Int(try row.int("failed_logins")),
            lockedUntil: try row.optionalDate("locked_until"), created: try row.date("created_at"), updated: try row.date("updated_at"))
    }
}
