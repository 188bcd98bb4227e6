import Crypto
public import Foundation

/// The state of one key version. One vocabulary everywhere: CLI, JSON, docs.
public enum KeyState: String, Sendable, Codable, CaseIterable {
    /// Seals new data and opens existing data. Exactly one version is primary.
    case primary
    /// Opens existing data during the grace period after a rotation.
    case active
    /// Added above the primary by a two-phase rotation: opens data, seals nothing yet. It becomes primary
    /// once every live node has loaded it (or the propagation interval has passed), so no node seals with
    /// a version another node cannot open.
    case published
    /// Below the minimum decryption version: refused, but its wrapped key is kept so it can be restored.
    case retired
    /// Its key material is gone; nothing sealed under it can ever be opened again.
    case destroyed
}

/// Public facts about one key version.
public struct KeyVersionInfo: Sendable, Hashable {
    public let version: UInt32
    public let state: KeyState
    /// When the version was created.
    public let created: Date
    /// Seals counted against this version (reserved by all processes; exact after clean shutdowns).
    public let sealCount: UInt64
    /// When its key material was destroyed.
    public let destroyed: Date?
}

/// An immutable snapshot of the keyring: which versions exist, their states, and the data keys that
/// may be used. Obtained from a ``FieldCipher``; safe to pass anywhere.
///
/// Only the primary and active versions' data keys are unwrapped into memory; retired and destroyed
/// versions' keys never are.
public struct Keyring: Sendable {
    /// The stored document's generation this snapshot reflects.
    public let generation: UInt64
    /// The version that seals.
    public let primaryVersion: UInt32
    /// Versions below this are retired.
    public let minimumDecryptionVersion: UInt32
    /// All versions, ascending.
    public let versions: [KeyVersionInfo]
    let dataKeys: [UInt32: AESGCMContext]

    /// Verifies `document` under `masterKey` and unwraps the usable data keys.
    ///
    /// - Throws: ``WardenCryptoError/Code/wrongMasterKey`` or ``WardenCryptoError/Code/keyringCorrupt``.
    init(document: KeyringDocument, masterKey: MasterKey) throws(WardenCryptoError) {
        try document.verify(with: masterKey)
        let numbers = document.versions.map(\.version)
        guard !numbers.isEmpty, numbers == numbers.sorted(), Set(numbers).count == numbers.count,
            numbers.contains(document.primaryVersion),
            document.minimumDecryptionVersion >= 1, document.minimumDecryptionVersion <= document.primaryVersion
        else {
            throw WardenCryptoError(.keyringCorrupt, "the keyring document is inconsistent")
        }
        var infos: [KeyVersionInfo] = []
        var keys: [UInt32: AESGCMContext] = [:]
        for entry in document.versions {
            let state: KeyState
            if entry.wrappedKey == nil {
                state = .destroyed
            } else if entry.version == document.primaryVersion {
                state = .primary
            } else if entry.version < document.minimumDecryptionVersion {
                state = .retired
            } else if entry.version > document.primaryVersion {
                state = .published
            } else {
                state = .active
            }
            if state == .destroyed, entry.version == document.primaryVersion {
                throw WardenCryptoError(.keyringCorrupt, "the primary key version has no key material")
            }
            if state == .primary || state == .active || state == .published, let wrapped = entry.wrappedKey {
                keys[entry.version] = AESGCMContext(key: try KeyringDocument.unwrap(wrapped, version: entry.version, masterKey: masterKey))
            }
            infos.append(
                KeyVersionInfo(
                    version: entry.version, state: state, created: entry.created,
                    sealCount: entry.sealsReserved, destroyed: entry.destroyed))
        }
        generation = document.generation
        primaryVersion = document.primaryVersion
        minimumDecryptionVersion = document.minimumDecryptionVersion
        versions = infos
        dataKeys = keys
    }

    /// Verifies a document under `masterKey` (check value, MAC, every usable key) and returns its snapshot.
    public static func verified(_ document: KeyringDocument, masterKey: MasterKey) throws(WardenCryptoError) -> Keyring {
        try Keyring(document: document, masterKey: masterKey)
    }

    /// The primary version's facts.
    public var primary: KeyVersionInfo {
        // Force-unwrap: `init` checked that the primary exists.
        versions.first { $0.version == primaryVersion }!
    }

    /// The version published by a two-phase rotation and not yet primary, if any.
    public var publishedVersion: KeyVersionInfo? {
        versions.last { $0.state == .published }
    }

    /// The highest version this snapshot can open: what a node acknowledges having loaded.
    public var highestOpenableVersion: UInt32 {
        dataKeys.keys.max() ?? primaryVersion
    }

    /// The facts about `version`, if it exists.
    public func info(for version: UInt32) -> KeyVersionInfo? {
        versions.first { $0.version == version }
    }

    /// The data key that opens ciphertexts of `version`.
    ///
    /// - Throws: a clear error when the version is unknown, retired or destroyed.
    func openingKey(for version: UInt32) throws(WardenCryptoError) -> AESGCMContext {
        if let key = dataKeys[version] { return key }
        switch info(for: version)?.state {
        case nil:
            throw WardenCryptoError(.unknownKeyVersion, "key version \(version) is not in this keyring")
        case .retired:
            throw WardenCryptoError(
                .retiredKeyVersion,
                "key version \(version) is retired (the minimum decryption version is \(minimumDecryptionVersion))")
        case .destroyed:
            throw WardenCryptoError(.destroyedKeyVersion, "key version \(version) has been destroyed")
        case .primary?, .active?, .published?:
            // Unreachable: usable versions always have their key unwrapped.
            throw WardenCryptoError(.keyringCorrupt, "key version \(version) has no key material")
        }
    }
}
