public import Foundation

/// The audit log's names for who acted and what was acted on, built in one place so every module writes
/// them alike (`AuditEvent.actor`, `AuditEvent.subject`).
public enum AuditSubject {
    /// An account: `account:<lowercase uuid>`.
    public static func account(_ id: UUID) -> String { "account:" + id.lowercasedText }
}
