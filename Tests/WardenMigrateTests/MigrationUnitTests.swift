import Foundation
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL
import WardenTestSupport

@testable import WardenMigrate

#if canImport(Glibc)
import Glibc
#endif

/// The pieces of `warden migrate` on their own: formats, the original's timestamps and password hashes,
/// the backup, the journal, key-version accounting. The whole tool runs in WardenCLITests.MigrationTests.
struct MigrationUnitTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-migrate-\(UUID().uuidString)").path
        try SecureFile.createPrivateDirectory(path)
        return path
    }

    // MARK: Formats

    @Test func formatsAreToldApartFromTheBytesAlone() throws {
        #expect(ValueFormat.of(.null) == .null)
        #expect(ValueFormat.of(.blob(Data())) == .empty)
        #expect(ValueFormat.of(.text("")) == .empty)
        #expect(ValueFormat.of(.other("integer")) == .nonText)
        #expect(ValueFormat.of(.text("auditory")) == .plaintext)
        #expect(ValueFormat.of(.blob(Data("Wonderful".utf8))) == .plaintext, "a plaintext BLOB starting with W is not an envelope")
        let fernet = "gAAAAABnQ" + String(repeating: "A", count: 90)
        #expect(ValueFormat.of(.text(fernet)) == .fernet)
        #expect(ValueFormat.of(.blob(Data(fernet.utf8))) == .fernet)
        #expect(ValueFormat.of(.text("gAAAAA short")) == .fernet, "a truncated token is still a token: it fails to open, never sealed as plaintext")
        let json = #"{"version": "v_20260101_120000_0a1b2c3d", "iv": "AAAAAAAAAAAAAAAA", "tag": "AAAAAAAAAAAAAAAAAAAAAA==", "data": "AA==", "algorithm": "AES-256-GCM"}"#
        #expect(ValueFormat.of(.blob(Data(json.utf8))) == .legacyJSON)
        #expect(ValueFormat.of(.text(#"{"a": 1}"#)) == .plaintext, "other JSON is plaintext")
        #expect(ValueFormat.of(.text(String(json.dropLast(30)))) == .legacyJSON, "a truncated envelope is still one")
        // The envelope vector of docs/formats.md, text and binary.
        let text = "wd1:1:AAAAAAAAAAAAAAAAOPMM760aKqIgTSStoXLgCvft0_ud2sYhol-0MyQ2dA"
        #expect(ValueFormat.of(.text(text)) == .envelope)
        let binary = try FieldEnvelope(text: text).binary
        #expect(ValueFormat.of(.blob(binary)) == .envelope)
        #expect(ValueFormat.of(.text("wd1:1:not-base64!")) == .damagedEnvelope, "never sealed a second time")
        #expect(ValueFormat.of(.blob(binary.prefix(20))) == .plaintext || ValueFormat.of(.blob(binary.prefix(20))) == .damagedEnvelope)
        #expect(!ValueFormat.damagedEnvelope.isRewritten(sealingPlaintext: true))
        #expect(ValueFormat.plaintext.isRewritten(sealingPlaintext: true) && !ValueFormat.plaintext.isRewritten(sealingPlaintext: false))
    }

    // MARK: The original's data

    @Test func bothTimestampShapesParseAsUTC() {
        #expect(RBACDatabase.time("2025-08-29 19:52:11") == Date(timeIntervalSince1970: 1_756_497_131))
        #expect(RBACDatabase.time("2025-09-01 10:00:00.123456")!.timeIntervalSince1970 == 1_756_720_800.123456)
        #expect(RBACDatabase.time("2027-02-21 05:45:01.169407")! > RBACDatabase.time("2027-02-21 05:45:01")!)
        for bad in ["", "yesterday", "2025-13-01 00:00:00", "2025-08-29 19:52", "2025-08-29 19:52:11.1234567", "2025-08-29X19:52:11", "2025-02-31 00:00:00"] {
            #expect(RBACDatabase.time(bad) == nil, "\(bad)")
        }
    }

    /// Both of the original's hash readings, computed by Python's hashlib (an independent PBKDF2).
    @Test func bothSaltReadingsOfTheOriginalsHashesVerify() async throws {
        let script = """
            import hashlib, os
            salt = os.urandom(32).hex()
            print(salt)
            print(hashlib.pbkdf2_hmac("sha256", b"pw-register", bytes.fromhex(salt), 100000).hex())
            print(hashlib.pbkdf2_hmac("sha256", b"pw-login", salt.encode(), 100000).hex())
            """
        let result = try await runProcess("/usr/bin/env", ["python3", "-c", script])
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        let hasher = PasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1))
        let register = try #require(PasswordHash.rbac(salt: lines[0], hexDigest: lines[1]))
        let login = try #require(PasswordHash.rbac(salt: lines[0].uppercased(), hexDigest: lines[2]))
        #expect(try await hasher.verify("pw-register", against: register.string) == .valid(needsRehash: true))
        #expect(try await hasher.verify("pw-login", against: login.string) == .valid(needsRehash: true))
        #expect(try await hasher.verify("pw-login", against: register.string) == .invalid)
        #expect(try await hasher.verify("pw-register ", against: register.string) == .invalid)
        #expect(PasswordHash(register.string) == register, "the stored string round-trips")
        #expect(PasswordHash.rbac(salt: "zz", hexDigest: lines[1]) == nil)
        #expect(PasswordHash.rbac(salt: lines[0], hexDigest: "abc") == nil)
    }

    @Test func importedAccountIDsAreStable() {
        let first = Migrator.accountID(forOriginalUser: "user_rb4XIpbVI0o")
        #expect(first == Migrator.accountID(forOriginalUser: "user_rb4XIpbVI0o"))
        #expect(first != Migrator.accountID(forOriginalUser: "user_rb4XIpbVI0p"))
        #expect(first.uuidString.dropFirst(14).hasPrefix("8"), "version 8 (derived)")
    }

    // MARK: Backup

    @Test func theBackupIsSealedChecksummedAndBoundToItsPlace() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let master = MasterKey.generate().key
        let backup = MigrationBackup(stateDirectory: directory, masterKey: master)
        try backup.reset()
        let entries: [MigrationBackup.Entry] = [
            .init(key: .integer(1), cell: .blob(Data("gAAAAAsecret-token".utf8))),
            .init(key: .text("code-2"), cell: .text("plain secret é")),
        ]
        let chunk = try backup.writeChunk(columnIndex: 0, index: 0, entries: entries)
        let other = try backup.writeChunk(columnIndex: 1, index: 0, entries: [entries[0]])
        let manifest = MigrationBackup.Manifest(
            created: Date(timeIntervalSince1970: 1_700_000_000), columns: [.init(location: "app/t/c", chunks: [chunk]), .init(location: "app/t/d", chunks: [other])], files: [])
        try backup.writeManifest(manifest)
        #expect(try backup.verify(try #require(try backup.readManifest())) == 3)
        #expect(try backup.readChunk(chunk) == entries)
        // No value in the clear.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/backup/" + chunk.file))
        #expect(bytes.range(of: Data("secret".utf8)) == nil)
        // Another master key opens nothing.
        let stranger = MigrationBackup(stateDirectory: directory, masterKey: MasterKey.generate().key)
        #expect(throws: MigrationError.self) { try stranger.readManifest() }
        // A changed byte fails the checksum; a chunk moved to another's name fails to open.
        var tampered = bytes
        tampered[tampered.count / 2] ^= 1
        try tampered.write(to: URL(fileURLWithPath: directory + "/backup/" + chunk.file))
        #expect(throws: MigrationError.self) { try backup.readChunk(chunk) }
        try FileManager.default.copyItem(atPath: directory + "/backup/" + other.file, toPath: directory + "/backup/moved.wbk")
        #expect(throws: MigrationError.self) { try backup.readChunk(.init(file: "moved.wbk", sha256: other.sha256, values: 1)) }
        // An edited manifest fails its MAC.
        var text = try String(contentsOfFile: backup.manifestPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"values\":1", with: "\"values\":2")
        try text.write(toFile: backup.manifestPath, atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try backup.readManifest() }
    }

    @Test func aBackupDirectoryOthersCanReadIsRefused() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try MigrationBackup.checkPrivateDirectory(directory + "/new")
        #expect(try SecureFile.permissions(directory + "/new") & 0o777 == 0o700)
        chmod(directory + "/new", 0o750)
        #expect(throws: MigrationError.self) { try MigrationBackup.checkPrivateDirectory(directory + "/new") }
    }

    // MARK: Journal

    @Test func aTornJournalLineIsIgnoredAndTheNextStartsOnItsOwnLine() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try MigrationJournal(stateDirectory: directory)
        try journal.append(.init(kind: .backupVerified, rows: 3))
        try journal.append(.init(kind: .batch, location: "twin/t/c", lastKey: .integer(1000), rows: 1000, rewritten: 998))
        // A crash in the middle of a write leaves half a line.
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"kind":"batch","location":"twin/t/c","last_ke"#.utf8))
        try handle.close()
        let reopened = try MigrationJournal(stateDirectory: directory)
        #expect(reopened.records.count == 2)
        #expect(reopened.cursor(for: "twin/t/c")?.lastKey == .integer(1000))
        try reopened.append(.init(kind: .batch, location: "twin/t/c", lastKey: .integer(2000), rows: 1000, rewritten: 1000))
        let again = try MigrationJournal(stateDirectory: directory)
        #expect(again.records.count == 3)
        #expect(again.cursor(for: "twin/t/c")?.lastKey == .integer(2000))
        #expect(again.columnState("twin/t/c") == (false, false))
        try again.append(.init(kind: .columnDone, location: "twin/t/c"))
        #expect(again.columnState("twin/t/c") == (true, false), "resuming: skip it")
        try again.append(.init(kind: .finished))
        #expect(again.columnState("twin/t/c") == (true, true), "a new run: pass over it again")
        #expect(try SecureFile.permissions(journal.path) & 0o777 == 0o600)
    }

    // MARK: Key accounting

    @Test func aGraceClosesOnlyWhenNothingCountedUsesTheVersionAndItsTimeIsUp() async throws {
        let master = MasterKey.generate().key
        let store = try await SQLStore.open(url: nil, sqlitePath: try Self.scratch() + "/warden.db", auditChain: AuditChain(key: master.auditKey), keyringActor: "test")
        var configuration = FieldCipher.Configuration()
        configuration.rotatesWhenDue = false
        let cipher = try await FieldCipher.load(store: store, masterKey: master, configuration: configuration)
        try await cipher.rotate()
        try await cipher.rotate()
        let keyring = cipher.keyring
        #expect(keyring.primaryVersion == 3)
        let stopped1 = keyring.versions[1].created
        let day: TimeInterval = 86_400
        let late = stopped1.addingTimeInterval(61 * day)
        // Nothing counted: nothing closes.
        #expect(KeyAccounting.closableMinimum(keyring: keyring, usage: [], grace: 60 * day, now: late) == nil)
        // Version 1 still used somewhere: nothing closes; version 2 used: only 1 closes.
        let counted = keyring.versions[2].created.addingTimeInterval(1)
        var usage = [KeyUsage(location: "a/t/c", keyVersion: "1", count: 5, counted: counted), KeyUsage(location: "a/t/c", keyVersion: "3", count: 9, counted: counted)]
        #expect(KeyAccounting.closableMinimum(keyring: keyring, usage: usage, grace: 60 * day, now: late) == nil)
        usage = [KeyUsage(location: "a/t/c", keyVersion: "2", count: 5, counted: counted), KeyUsage(location: "a/t/d", keyVersion: "legacy-fernet", count: 1, counted: counted)]
        #expect(KeyAccounting.closableMinimum(keyring: keyring, usage: usage, grace: 60 * day, now: late) == 2)
        // Grace not over yet; or a column counted before the version stopped sealing: nothing closes.
        #expect(KeyAccounting.closableMinimum(keyring: keyring, usage: usage, grace: 60 * day, now: stopped1.addingTimeInterval(59 * day)) == nil)
        let stale = [KeyUsage(location: "a/t/c", keyVersion: "3", count: 5, counted: stopped1.addingTimeInterval(-1))]
        #expect(KeyAccounting.closableMinimum(keyring: keyring, usage: stale, grace: 60 * day, now: late) == nil)
        // All on the primary: 1 and 2 close, through the store, and the audit log says so.
        try await store.recordKeyUsage(location: "a/t/c", counts: ["3": 14], at: Date())
        let closed = try await KeyAccounting.closeGraceIfDue(cipher: cipher, store: store, grace: 0, now: Date().addingTimeInterval(1), context: AuditContext(actor: "system"))
        #expect(closed == 3)
        #expect(cipher.keyring.minimumDecryptionVersion == 3)
        let entries = try await store.latest(limit: 10).filter { $0.event.action == "key.grace_closed" }
        #expect(Set(entries.compactMap { $0.event.subject }) == ["key:1", "key:2"])
        try await cipher.close()
        try await store.close()
    }
}
