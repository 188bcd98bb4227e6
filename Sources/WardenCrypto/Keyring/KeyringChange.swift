/// A security-relevant change between two versions of a keyring document, for the audit log.
///
/// Stores that keep an audit log (the SQL store) derive these from the documents before and after each
/// change and record them in the same transaction. Seal reservations are bookkeeping, not changes.
public enum KeyringChange: Sendable, Hashable {
    case created(primary: UInt32)
    /// A new version became primary.
    case rotated(from: UInt32, to: UInt32)
    /// A version was added without becoming primary (two-phase rotation).
    case added(version: UInt32)
    case retired(below: UInt32)
    case restored(from: UInt32)
    case destroyed(version: UInt32)

    /// The audit action (`key.rotated`, …).
    public var action: String {
        switch self {
        case .created: "keyring.created"
        case .rotated: "key.rotated"
        case .added: "key.added"
        case .retired: "key.retired"
        case .restored: "key.restored"
        case .destroyed: "key.destroyed"
        }
    }

    /// Non-secret facts for the audit event.
    public var details: [String: String] {
        switch self {
        case .created(let primary): ["primary_version": String(primary)]
        case .rotated(let from, let to): ["from_version": String(from), "to_version": String(to)]
        case .added(let version): ["version": String(version)]
        case .retired(let below): ["minimum_decryption_version": String(below)]
        case .restored(let from): ["minimum_decryption_version": String(from)]
        case .destroyed(let version): ["version": String(version)]
        }
    }

    /// The changes from `old` (nil: none existed) to `new`.
    public static func between(_ old: KeyringDocument?, _ new: KeyringDocument) -> [KeyringChange] {
        guard let old else { return [.created(primary: new.primaryVersion)] }
        var changes: [KeyringChange] = []
        let oldVersions = Set(old.versions.map(\.version))
        for entry in new.versions where !oldVersions.contains(entry.version) && entry.version != new.primaryVersion {
            changes.append(.added(version: entry.version))
        }
        if new.primaryVersion != old.primaryVersion {
            changes.append(.rotated(from: old.primaryVersion, to: new.primaryVersion))
        }
        if new.minimumDecryptionVersion > old.minimumDecryptionVersion {
            changes.append(.retired(below: new.minimumDecryptionVersion))
        } else if new.minimumDecryptionVersion < old.minimumDecryptionVersion {
            changes.append(.restored(from: new.minimumDecryptionVersion))
        }
        let hadKey = Set(old.versions.filter { $0.wrappedKey != nil }.map(\.version))
        for entry in new.versions where entry.wrappedKey == nil && hadKey.contains(entry.version) {
            changes.append(.destroyed(version: entry.version))
        }
        return changes
    }
}
