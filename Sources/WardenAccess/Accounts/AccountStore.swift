public import Foundation
public import WardenAudit
public import WardenCore

/// Where accounts live. Every change takes the audit events that record it and appends them in the
/// same transaction: if the audit log cannot be written, the change does not happen.
public protocol AccountStore: AuditAppender {
    /// Adds an account.
    ///
    /// - Throws: ``AccessError/Code/usernameTaken`` when another account has the same username key.
    func insert(_ account: StoredAccount, audit: [AuditEvent]) async throws

    func account(id: UUID) async throws -> StoredAccount?
    func account(usernameKey: String) async throws -> StoredAccount?
    /// Every account, by username key.
    func accounts() async throws -> [StoredAccount]

    /// Changes one account atomically: `change` sees the current stored state (locked against concurrent
    /// changes), edits it, and returns the events to record.
    ///
    /// - Throws: ``AccessError/Code/accountNotFound``, or what `change` throws (nothing is written then).
    func update(id: UUID, _ change: @escaping @Sendable (inout StoredAccount) throws -> [AuditEvent]) async throws -> StoredAccount

    /// Removes an account and its role grants.
    func delete(id: UUID, audit: [AuditEvent]) async throws
}
