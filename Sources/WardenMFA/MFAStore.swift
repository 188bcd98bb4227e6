public import Foundation
public import WardenAudit
public import WardenCore

/// The result of one change to an account's MFA state, and the audit events that record it (written in
/// the same transaction).
public struct MFAUpdate<Result: Sendable>: Sendable {
    public var result: Result
    public var audit: [AuditEvent]

    public init(_ result: Result, audit: [AuditEvent] = []) {
        self.result = result
        self.audit = audit
    }
}

/// Where MFA state lives: the SQL store (SQLite or PostgreSQL, shared by every node) or memory (tests).
public protocol MFAStore: Sendable {
    /// The account's state, or `nil` if it never had any.
    func mfaState(accountID: UUID) async throws -> MFAState?

    /// Reads the state with the account's row locked against every other writer on every node, lets
    /// `change` edit it, and writes it with the returned audit events, all or nothing. If `change` throws,
    /// nothing is written.
    func updateMFA<Result: Sendable>(
        accountID: UUID, _ change: @escaping @Sendable (inout MFAState) throws -> MFAUpdate<Result>
    ) async throws -> Result
}

/// MFA state in memory, for tests and single-process embedding.
public actor MemoryMFAStore: MFAStore {
    private var states: [UUID: MFAState] = [:]
    private let audit: (any AuditAppender)?

    public init(audit: (any AuditAppender)? = nil) {
        self.audit = audit
    }

    public func mfaState(accountID: UUID) -> MFAState? { states[accountID] }

    public func updateMFA<Result: Sendable>(
        accountID: UUID, _ change: @escaping @Sendable (inout MFAState) throws -> MFAUpdate<Result>
    ) async throws -> Result {
        var state = states[accountID] ?? MFAState()
        let update = try change(&state)
        // No suspension between reading and writing: the actor makes the change atomic. The audit events
        // are appended after; a failing log rolls the change back.
        let before = states[accountID]
        states[accountID] = state
        if let audit, !update.audit.isEmpty {
            do {
                try await audit.append(update.audit)
            } catch {
                // Undo, unless another change has been made on top in the meantime.
                if states[accountID] == state { states[accountID] = before }
                throw error
            }
        }
        return update.result
    }
}
