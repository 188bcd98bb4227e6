import Foundation
import WardenCrypto

/// The keyring as `warden keys status` shows it.
struct KeyringReport {
    let keyring: Keyring
    let policy: KeyringPolicy
    let now: Date

    var nextRotation: Date { keyring.primary.created.addingTimeInterval(policy.rotationPeriod) }
    var rotationDue: Bool { now >= nextRotation || keyring.primary.sealCount >= policy.sealLimit }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

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
            "versions": keyring.versions.map { info -> [String: Any] in
                var entry: [String: Any] = [
                    "number": info.version, "state": info.state.rawValue,
                    "created": Self.timestamp(info.created), "seal_count": info.sealCount,
                ]
                if let destroyed = info.destroyed { entry["destroyed"] = Self.timestamp(destroyed) }
                return entry
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
            "",
            "VERSION  STATE      CREATED               SEALS",
        ]
        for info in keyring.versions.reversed() {
            lines.append(
                String(info.version).padding(toLength: 9, withPad: " ", startingAt: 0)
                    + info.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + Self.timestamp(info.created).padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(info.sealCount))
        }
        return lines.joined(separator: "\n")
    }
}
