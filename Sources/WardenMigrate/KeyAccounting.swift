public import Foundation
public import WardenCore
public import WardenCrypto
public import WardenSQL

/// Key-version accounting over the columns `warden migrate` knows: how many ciphertexts use each key
/// version (counted by `migrate run` and `migrate verify`), which versions are still in use, and the
/// closing of a version's grace period once nothing uses it.
public enum KeyAccounting {
    /// Values per key version (decimal) or legacy format, summed over every counted column.
    public static func totals(_ usage: [KeyUsage]) -> [String: Int64] {
        usage.reduce(into: [:]) { $0[$1.keyVersion, default: 0] += $1.count }
    }

    /// Versions below `version` that counted columns still use, with their counts.
    public static func inUse(below version: UInt32, _ usage: [KeyUsage]) -> [UInt32: Int64] {
        var result: [UInt32: Int64] = [:]
        for entry in usage where entry.count > 0 {
            if let number = UInt32(entry.keyVersion), number < version { result[number, default: 0] += entry.count }
        }
        return result
    }

    /// When `version` stopped sealing: the creation of the next version (`nil` while it is the primary).
    static func stoppedSealing(_ version: UInt32, in keyring: Keyring) -> Date? {
        keyring.versions.first { $0.version > version }?.created
    }

    /// The versions whose grace period can close now: every counted column was counted after the version
    /// stopped sealing and holds none of its values, and the grace time since it stopped has passed.
    /// Returns the new minimum decryption version, or `nil` when nothing can close. Nothing closes
    /// while no column has been counted (Warden then knows nothing of the data).
    public static func closableMinimum(keyring: Keyring, usage: [KeyUsage], grace: TimeInterval, now: Date) -> UInt32? {
        guard !usage.isEmpty else { return nil }
        var locations: [String: Date] = [:]
        for entry in usage { locations[entry.location] = min(locations[entry.location] ?? entry.counted, entry.counted) }
        var minimum = keyring.minimumDecryptionVersion
        for info in keyring.versions where info.version >= keyring.minimumDecryptionVersion && info.version < keyring.primaryVersion {
            guard info.state == .active, let stopped = stoppedSealing(info.version, in: keyring),
                now >= stopped.addingTimeInterval(grace),
                locations.values.allSatisfy({ $0 >= stopped }),
                !usage.contains(where: { $0.keyVersion == String(info.version) && $0.count > 0 })
            else { break }
            minimum = info.version + 1
        }
        return minimum > keyring.minimumDecryptionVersion ? minimum : nil
    }

    /// Closes the grace period of every version that nothing counted uses any more (retiring it, which
    /// `warden keys restore` can undo) and records it in the audit log.
    ///
    /// - Returns: The new minimum decryption version, if it changed.
    @discardableResult
    public static func closeGraceIfDue(cipher: FieldCipher, store: SQLStore, grace: TimeInterval, now: Date = Date(), context: AuditContext) async throws -> UInt32? {
        try await cipher.refresh()
        let keyring = cipher.keyring
        let usage = try await store.keyUsage()
        guard let minimum = closableMinimum(keyring: keyring, usage: usage, grace: grace, now: now) else { return nil }
        let closed = keyring.versions.filter { $0.version >= keyring.minimumDecryptionVersion && $0.version < minimum }.map(\.version)
        try await cipher.retire(below: minimum)
        try await store.append(
            closed.map { version in
                context.event(
                    "key.grace_closed", subject: "key:\(version)",
                    details: [
                        "reason": "no counted value uses it and its grace period has passed", "grace_days": String(format: "%g", grace / 86_400),
                        "counted_columns": String(Set(usage.map(\.location)).count),
                    ],
                    at: now)
            })
        return minimum
    }
}
