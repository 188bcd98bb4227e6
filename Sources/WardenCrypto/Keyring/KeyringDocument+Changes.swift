import Crypto
import Foundation
import WardenCore

/// The changes a keyring can undergo, as pure functions on the document. ``KeyringManager`` applies them
/// inside a store transaction, so they always see the latest stored state.
extension KeyringDocument {
    /// A new document with one primary version.
    static func create(masterKey: MasterKey, now: Date) throws -> KeyringDocument {
        var document = KeyringDocument(
            format: currentFormat, generation: 0, masterKeyCheck: Base64.encode(masterKey.checkValue),
            primaryVersion: 0, minimumDecryptionVersion: 1, versions: [], mac: "")
        try document.addPrimary(masterKey: masterKey, now: now)
        document.mac = document.computeMAC(with: masterKey)
        return document
    }

    var primaryEntry: Entry {
        // The document invariants (checked by `Keyring.init`) guarantee the primary exists.
        versions.first { $0.version == primaryVersion }!
    }

    func index(of version: UInt32) -> Int? {
        versions.firstIndex { $0.version == version }
    }

    /// The newest version above the primary that can open data: published, waiting to become primary.
    var publishedVersion: UInt32? {
        versions.last { $0.version > primaryVersion && $0.wrappedKey != nil }?.version
    }

    /// Makes a version primary now: the published one if there is one, else a new one.
    mutating func addPrimary(masterKey: MasterKey, now: Date) throws {
        if let published = publishedVersion {
            primaryVersion = published
            return
        }
        primaryVersion = try addVersion(masterKey: masterKey, now: now)
    }

    /// The first phase of a rotation: adds a version that opens data but seals nothing yet, unless one is
    /// already published. Returns the published version.
    mutating func publish(masterKey: MasterKey, now: Date) throws -> UInt32 {
        if let published = publishedVersion { return published }
        return try addVersion(masterKey: masterKey, now: now)
    }

    /// The second phase: `version`, published earlier, becomes primary. Returns false (and changes
    /// nothing) when it is no longer above the primary (another node promoted it, or something newer).
    mutating func promote(_ version: UInt32) -> Bool {
        guard version > primaryVersion, let index = index(of: version), versions[index].wrappedKey != nil else { return false }
        primaryVersion = version
        return true
    }

    /// Adds a version with a fresh random data key, above every existing one.
    private mutating func addVersion(masterKey: MasterKey, now: Date) throws -> UInt32 {
        let highest = versions.last?.version ?? 0
        guard highest < UInt32.max else {
            throw WardenCryptoError(.invalidOperation, "the keyring has used every key version number")
        }
        let version = highest + 1
        let dataKey = SymmetricKey(size: .bits256)
        versions.append(
            Entry(
                version: version, created: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)),
                sealsReserved: 0, wrappedKey: try Self.wrap(dataKey, version: version, masterKey: masterKey), destroyed: nil))
        return version
    }

    /// Whether the primary has reached its age or seal limit (a published version waiting to be promoted
    /// does not change that: publishing again is a no-op).
    func rotationDue(now: Date, policy: KeyringPolicy) -> Bool {
        let primary = primaryEntry
        return now >= primary.created.addingTimeInterval(policy.rotationPeriod) || primary.sealsReserved >= policy.sealLimit
    }

    /// Raises the minimum decryption version to `version`.
    mutating func retire(below version: UInt32) throws(WardenCryptoError) {
        guard version <= primaryVersion else {
            throw WardenCryptoError(
                .invalidOperation,
                "cannot retire the primary key version \(primaryVersion): rotate first, then retire below the new primary")
        }
        guard version > minimumDecryptionVersion else {
            throw WardenCryptoError(
                .invalidOperation,
                "versions below \(minimumDecryptionVersion) are already retired; `retire` only raises the minimum (use `restore` to lower it)")
        }
        minimumDecryptionVersion = version
    }

    /// Lowers the minimum decryption version to `version`, bringing retired versions back into use.
    mutating func restore(from version: UInt32) throws(WardenCryptoError) {
        guard version >= 1, version < minimumDecryptionVersion else {
            throw WardenCryptoError(
                .invalidOperation,
                "the minimum decryption version is \(minimumDecryptionVersion); `restore` only lowers it")
        }
        if let destroyed = versions.first(where: { $0.version >= version && $0.version < minimumDecryptionVersion && $0.wrappedKey == nil }) {
            throw WardenCryptoError(.invalidOperation, "key version \(destroyed.version) was destroyed and cannot be restored")
        }
        minimumDecryptionVersion = version
    }

    /// Deletes a retired version's key material for good.
    mutating func destroy(version: UInt32, now: Date) throws(WardenCryptoError) {
        guard let index = index(of: version) else {
            throw WardenCryptoError(.invalidOperation, "there is no key version \(version)")
        }
        guard version < minimumDecryptionVersion else {
            throw WardenCryptoError(
                .invalidOperation,
                "only retired versions can be destroyed: retire below \(version + 1) first")
        }
        guard versions[index].wrappedKey != nil else {
            throw WardenCryptoError(.invalidOperation, "key version \(version) is already destroyed")
        }
        versions[index].wrappedKey = nil
        versions[index].destroyed = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
    }

    /// Reserves up to `count` seals under `version` if it is still the primary; returns how many were
    /// granted (0 when the version is no longer primary or has reached the seal limit).
    mutating func reserveSeals(version: UInt32, count: UInt64, limit: UInt64) -> UInt64 {
        guard version == primaryVersion, let index = index(of: version) else { return 0 }
        let reserved = versions[index].sealsReserved
        let granted = reserved >= limit ? 0 : min(count, limit - reserved)
        versions[index].sealsReserved = reserved + granted
        return granted
    }

    /// Gives back reserved seals that were never used.
    mutating func releaseSeals(version: UInt32, count: UInt64) {
        guard let index = index(of: version) else { return }
        versions[index].sealsReserved -= min(count, versions[index].sealsReserved)
    }

    // MARK: Wrapping

    static func wrappingAssociatedData(version: UInt32) -> [UInt8] {
        var data = Array("warden/keyring/data-key".utf8)
        data.append(0)
        withUnsafeBytes(of: version.bigEndian) { data.append(contentsOf: $0) }
        return data
    }

    static func wrap(_ dataKey: SymmetricKey, version: UInt32, masterKey: MasterKey) throws -> String {
        let box = try dataKey.withUnsafeBytes { bytes in
            try AES.GCM.seal(bytes, using: masterKey.wrappingKey, authenticating: wrappingAssociatedData(version: version))
        }
        // Force-unwrap: a box sealed with the default 12-byte nonce always has a combined form.
        return Base64.encode(box.combined!)
    }

    static func unwrap(_ wrapped: String, version: UInt32, masterKey: MasterKey) throws(WardenCryptoError) -> SymmetricKey {
        guard let combined = Base64.decode(wrapped), combined.count == 12 + 32 + 16,
            let box = try? AES.GCM.SealedBox(combined: combined),
            let bytes = try? AES.GCM.open(box, using: masterKey.wrappingKey, authenticating: wrappingAssociatedData(version: version))
        else {
            throw WardenCryptoError(.keyringCorrupt, "key version \(version) cannot be unwrapped")
        }
        return SymmetricKey(data: bytes)
    }
}
