import Foundation
import WardenCrypto

/// Seal and open a field, rotate, rewrap, and open data the original system wrote.
@main
struct FieldEncryptionExample {
    static func main() async throws {
        // The keyring lives in a store; the embedded default is a directory with keyring.json in it.
        let directory = NSTemporaryDirectory() + "warden-example-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // In production: try MasterKey(base64: ProcessInfo.processInfo.environment["WARDEN_MASTER_KEY"]!)
        let masterKey = MasterKey.generate().key
        var configuration = FieldCipher.Configuration()
        // Keys of the original system (here the Fernet specification's example key as DIGITAL_TWIN_ENCRYPTION_KEY).
        configuration.legacyKeys = try LegacyKeys(encryptionKey: "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
        let cipher = try await FieldCipher.load(
            store: FileKeyringStore(directory: directory), masterKey: masterKey, configuration: configuration)

        // Seal a value, bound to where it is stored; keep the text form in a text column.
        let sealed = try await cipher.seal(Data("ada@example.com".utf8), context: "users/email/42")
        let column = sealed.text  // "wd1:1:…"

        // Open it. The same bytes under another context (another row or column) do not open.
        let opened = try cipher.open(column, context: "users/email/42")
        precondition(String(decoding: opened.plaintext, as: UTF8.self) == "ada@example.com")
        precondition((try? cipher.open(column, context: "users/email/43")) == nil)

        // Rotate: new seals use version 2; version-1 data still opens and asks to be rewrapped.
        try await cipher.rotate()
        let old = try cipher.open(column, context: "users/email/42")
        precondition(old.source == .envelope(keyVersion: 1) && old.needsRewrap)
        let upgraded = try await cipher.rewrap(column, context: "users/email/42")
        precondition(upgraded.keyVersion == 2)

        // Once everything is rewrapped, retire version 1: it no longer opens anything.
        try await cipher.retire(below: 2)

        // Legacy data opens too. Read with openUpgrading, a value that is not current (legacy, or an older
        // key version) also comes back sealed under the primary, bound to its context, in the form it was
        // read in (text here), to be written back in its place: migration as the data is read.
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
        let legacy = try await cipher.openUpgrading(token, context: "profiles/greeting/7")
        precondition(legacy.source == .legacyFernet && String(decoding: legacy.plaintext, as: UTF8.self) == "hello")
        let migrated = legacy.upgraded!  // "wd1:2:…"; nil for a value that is already current

        // On shutdown, give back unused seal reservations so the stored counts are exact.
        try await cipher.close()
        print("sealed \(column.prefix(12))…, rotated to version \(cipher.keyring.primaryVersion), migrated \(migrated.prefix(12))…")
    }
}
