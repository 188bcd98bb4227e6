public import Foundation

/// What a plan, run or verification found, per column and for accounts: counts, and row keys of
/// failures, never values.
public struct MigrationReport: Sendable, Codable {
    public struct Column: Sendable, Codable {
        /// `<database>/<table>/<column>`.
        public var location: String
        public var rows = 0
        /// Values by format: `null`, `empty`, `envelope-v<N>`, `legacy-json`, `legacy-fernet`,
        /// `legacy-twin-fernet`, `fernet` (not opened), `plaintext`, `non-text`, `damaged-envelope`.
        public var formats: [String: Int] = [:]
        /// Values rewritten by this run.
        public var rewritten = 0
        /// Values that do not open (or cannot be rewritten), by row key (at most 100 listed).
        public var failures: [Failure] = []
        public var failureCount = 0
        /// Legacy or plaintext values still there after a run (verification counts them as failures).
        public var remainingLegacy = 0

        public init(location: String) { self.location = location }

        mutating func fail(_ key: RowKey, _ reason: String) {
            failureCount += 1
            if failures.count < 100 { failures.append(Failure(key: key.description, reason: reason)) }
        }

        enum CodingKeys: String, CodingKey {
            case location, rows, formats, rewritten, failures
            case failureCount = "failure_count"
            case remainingLegacy = "remaining_legacy"
        }
    }

    public struct Failure: Sendable, Codable, Hashable {
        public var key: String
        public var reason: String
    }

    public struct Accounts: Sendable, Codable {
        public var users = 0
        public var imported = 0
        public var alreadyImported = 0
        public var withoutPassword = 0
        public var disabled = 0
        public var roleless = 0
        public var rolelessPolicy = "none"
        public var grants = 0
        public var expiredGrantsSkipped = 0
        public var unknownRolesSkipped = 0
        public var emailsNotImported = 0
        public var auditEntries = 0
        /// Users not imported or not matching, by the original's `user_id` (never a password or email).
        public var failures: [Failure] = []

        enum CodingKeys: String, CodingKey {
            case users, imported
            case alreadyImported = "already_imported"
            case withoutPassword = "without_password"
            case disabled, roleless
            case rolelessPolicy = "roleless_policy"
            case grants
            case expiredGrantsSkipped = "expired_grants_skipped"
            case unknownRolesSkipped = "unknown_roles_skipped"
            case emailsNotImported = "emails_not_imported"
            case auditEntries = "audit_entries"
            case failures
        }
    }

    public var mode: String
    public var columns: [Column] = []
    public var accounts: Accounts?
    public var notes: [String] = []
    public var elapsedSeconds: Double = 0

    public init(mode: String) { self.mode = mode }

    /// Failures of every kind; verification also counts legacy values left behind.
    public var failureCount: Int {
        columns.reduce(0) { $0 + $1.failureCount + (mode == "verify" ? $1.remainingLegacy : 0) } + (accounts?.failures.count ?? 0)
    }

    public var succeeded: Bool { failureCount == 0 }

    enum CodingKeys: String, CodingKey {
        case mode, columns, accounts, notes
        case elapsedSeconds = "elapsed_seconds"
        case ok
        case failureCount = "failure_count"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
        try container.encode(succeeded, forKey: .ok)
        try container.encode(failureCount, forKey: .failureCount)
        try container.encode(columns, forKey: .columns)
        try container.encodeIfPresent(accounts, forKey: .accounts)
        try container.encode(notes, forKey: .notes)
        try container.encode((elapsedSeconds * 1000).rounded() / 1000, forKey: .elapsedSeconds)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decode(String.self, forKey: .mode)
        columns = try container.decode([Column].self, forKey: .columns)
        accounts = try container.decodeIfPresent(Accounts.self, forKey: .accounts)
        notes = try container.decode([String].self, forKey: .notes)
        elapsedSeconds = try container.decode(Double.self, forKey: .elapsedSeconds)
    }

    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    public func text() -> String {
        var lines: [String] = []
        for note in notes { lines.append("note: \(note)") }
        if let accounts {
            lines.append("accounts (rbac.db): \(accounts.users) users")
            switch mode {
            case "plan": lines.append("  to import \(accounts.users - accounts.failures.count), disabled \(accounts.disabled), without a password \(accounts.withoutPassword)")
            case "verify": lines.append("  found in Warden \(accounts.alreadyImported), disabled \(accounts.disabled), without a password \(accounts.withoutPassword)")
            default: lines.append("  imported \(accounts.imported), already imported \(accounts.alreadyImported), disabled \(accounts.disabled), without a password \(accounts.withoutPassword)")
            }
            lines.append(
                "  grants \(accounts.grants) (expired skipped \(accounts.expiredGrantsSkipped), unknown roles skipped \(accounts.unknownRolesSkipped)); users without a role \(accounts.roleless) → policy: \(accounts.rolelessPolicy)"
            )
            if accounts.emailsNotImported > 0 { lines.append("  emails not imported (not valid addresses): \(accounts.emailsNotImported)") }
            lines.append(mode == "plan" ? "  access log entries to import into the audit log: \(accounts.auditEntries)" : "  access log entries in the audit log: \(accounts.auditEntries)")
            for failure in accounts.failures.prefix(100) { lines.append("  FAILED user \(failure.key): \(failure.reason)") }
        }
        for column in columns {
            let formats = column.formats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("\(column.location): \(column.rows) rows — \(formats.isEmpty ? "empty" : formats)")
            if column.rewritten > 0 || mode == "run" { lines.append("  rewritten: \(column.rewritten)") }
            if column.remainingLegacy > 0 { lines.append("  legacy or plaintext values remaining: \(column.remainingLegacy)") }
            for failure in column.failures { lines.append("  FAILED row \(failure.key): \(failure.reason)") }
            if column.failureCount > column.failures.count { lines.append("  … and \(column.failureCount - column.failures.count) more failures") }
        }
        lines.append(succeeded ? "\(mode): OK" : "\(mode): \(failureCount) failure(s)")
        return lines.joined(separator: "\n")
    }
}
