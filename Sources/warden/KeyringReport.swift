import Foundation
import WardenApp
import WardenCrypto
import WardenMigrate
import WardenSQL

/// The keyring as `warden keys status` shows it.
struct KeyringReport {
    let keyring: Keyring
    let policy: KeyringPolicy
    let now: Date
    /// Values per key version in the columns `warden migrate` counted.
    var usage: [KeyUsage] = []
    var grace: TimeInterval = 60 * 86_400

    var nextRotation: Date { keyring.primary.created.addingTimeInterval(policy.rotationPeriod) }
    var rotationDue: Bool { now >= nextRotation || keyring.primary.sealCount >= policy.sealLimit }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    var totals: [String: Int64] { KeyAccounting.totals(usage) }

    func json() -> Data {
        let object: [String: Any] = [
            "algorithm": "AES-256-GCM",
            "generation": keyring.generation,
            "primary_version": keyring.primaryVersion,
            "minimum_decryption_version": keyring.minimumDecryptionVersion,
            "rotation_period_days": policy.rotationPeriod / 86_400,
            "next_rotation": Self.timestamp(nextRotation),
            "rotation_due": rotationDue,
            "seal_limit": policy.sealLimit,
            "grace_days": grace / 86_400,
            "versions": keyring.versions.map { info -> [String: Any] in
                var entry: [String: Any] = [
                    "number": info.version, "state": info.state.rawValue,
                    "created": Self.timestamp(info.created), "seal_count": info.sealCount,
                ]
                if let destroyed = info.destroyed { entry["destroyed"] = Self.timestamp(destroyed) }
                if !usage.isEmpty { entry["values_in_counted_columns"] = totals[String(info.version)] ?? 0 }
                return entry
            },
            "counted_columns": usage.reduce(into: [String: [String: Any]]()) { columns, entry in
                var column = columns[entry.location] ?? ["counted": Self.timestamp(entry.counted), "values": [String: Int64]()]
                var values = column["values"] as? [String: Int64] ?? [:]
                values[entry.keyVersion] = entry.count
                column["values"] = values
                columns[entry.location] = column
            },
        ]
        // Force-try: the object holds only JSON types.
        return try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    func text(location: String) -> String {
        let age = now.timeIntervalSince(keyring.primary.created) / 86_400
        var lines = [
            "keyring      \(location) (generation \(keyring.generation))",
            "algorithm    AES-256-GCM",
            "primary      version \(keyring.primaryVersion), \(String(format: "%.1f", age)) days old",
            "rotation     every \(String(format: "%g", policy.rotationPeriod / 86_400)) days or \(policy.sealLimit) seals; "
                + (rotationDue ? "DUE NOW" : "next at \(Self.timestamp(nextRotation))"),
            "minimum decryption version \(keyring.minimumDecryptionVersion)",
            "grace        a version that stopped sealing stays open at least \(String(format: "%g", grace / 86_400)) days, then closes once no counted value uses it",
            "",
            "VERSION  STATE      CREATED               SEALS" + (usage.isEmpty ? "" : "       VALUES (counted columns)"),
        ]
        for info in keyring.versions.reversed() {
            lines.append(
                String(info.version).padding(toLength: 9, withPad: " ", startingAt: 0)
                    + info.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + Self.timestamp(info.created).padding(toLength: 22, withPad: " ", startingAt: 0)
                    + (usage.isEmpty ? String(info.sealCount) : String(info.sealCount).padding(toLength: 12, withPad: " ", startingAt: 0) + String(totals[String(info.version)] ?? 0)))
        }
        let legacy = totals.filter { UInt32($0.key) == nil }.sorted { $0.key < $1.key }
        if !legacy.isEmpty {
            lines.append("legacy values still in counted columns: " + legacy.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !usage.isEmpty {
            lines.append("counted columns: \(Set(usage.map(\.location)).count), last counted \(Self.timestamp(usage.map(\.counted).max()!)) (by `warden migrate run/verify`)")
        }
        return lines.joined(separator: "\n")
    }
}
