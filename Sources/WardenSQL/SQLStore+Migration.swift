public import Foundation
import SQLKit
public import WardenAudit
import WardenCore

/// How many values of one column were found under one key version (or legacy format) at a count.
public struct KeyUsage: Sendable, Hashable {
    /// Where: `<database>/<table>/<column>`, as `warden migrate` names a column.
    public let location: String
    /// A Warden key version in decimal, or a legacy format's name (`legacy-fernet`, …).
    public let keyVersion: String
    public let count: Int64
    /// When the column was counted (a count taken before a version stopped sealing says nothing about it).
    public let counted: Date

    public init(location: String, keyVersion: String, count: Int64, counted: Date) {
        self.location = location
        self.keyVersion = keyVersion
        self.count = count
        self.counted = counted
    }
}

extension SQLStore {
    /// Replaces the counts of `location` with `counts` (key version → number of values), taken at `at`.
    public func recordKeyUsage(location: String, counts: [String: Int64], at: Date) async throws {
        let millis = StoredInstant(truncating: at).milliseconds
        try await inTransaction(.maintenance) { database in
            try await database.raw("DELETE FROM warden_key_usage WHERE location = \(bind: location)").run()
            for (version, count) in counts.sorted(by: { $0.key < $1.key }) {
                try await database.raw(
                    """
                    INSERT INTO warden_key_usage (location, key_version, value_count, counted_at) \
                    VALUES (\(bind: location), \(bind: version), \(bind: count), \(bind: millis))
                    """
                ).run()
            }
        }
    }

    /// Every recorded count, by location and key version.
    public func keyUsage() async throws -> [KeyUsage] {
        try await onConnection(.maintenance) { database in
            try await database.raw("SELECT location, key_version, value_count, counted_at FROM warden_key_usage ORDER BY location, key_version")
                .all().map { row in
                    KeyUsage(
                        location: try row.decode(column: "location", as: String.self),
                        keyVersion: try row.decode(column: "key_version", as: String.self),
                        count: try row.decode(column: "value_count", as: Int64.self),
                        counted: StoredInstant(milliseconds: try row.decode(column: "counted_at", as: Int64.self)).date)
                }
        }
    }
}

extension SQLStore {
    /// The newest audit entry with `action`, or `nil` (an importer resumes after the last entry it wrote:
    /// the entries and their position are committed together, so nothing is imported twice).
    public func lastAuditEntry(action: String) async throws -> AuditEntry? {
        try await onConnection(.maintenance) { database in
            try await database.raw("SELECT * FROM warden_audit WHERE action = \(bind: action) ORDER BY seq DESC LIMIT 1").first().map(Self.entry)
        }
    }
}
