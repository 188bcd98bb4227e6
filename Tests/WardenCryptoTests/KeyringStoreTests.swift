import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// Persistence: restarts, the master key check, tampering, and counters across crashes.
struct KeyringStoreTests {
    let context = "users/email/42"

    func loadCipher(_ directory: String, masterKey: MasterKey = testMasterKey(), policy: KeyringPolicy = KeyringPolicy()) async throws -> FieldCipher {
        var configuration = FieldCipher.Configuration()
        configuration.policy = policy
        return try await FieldCipher.load(store: FileKeyringStore(directory: directory), masterKey: masterKey, configuration: configuration)
    }

    @Test func aRestartKeepsEveryVersionAndState() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let first = try await loadCipher(directory.path)
        let v1 = try await first.seal(Data("one".utf8), context: context)
        try await first.rotate()
        let v2 = try await first.seal(Data("two".utf8), context: context)
        try await first.rotate()
        try await first.retire(below: 2)
        try await first.close()

        let second = try await loadCipher(directory.path)
        let keyring = second.keyring
        #expect(keyring.primaryVersion == 3)
        #expect(keyring.versions.map(\.state) == [.retired, .active, .primary])
        #expect(keyring.versions.map(\.created) == first.keyring.versions.map(\.created))
        #expect(try second.open(v2, context: context).plaintext == Data("two".utf8))
        let retired = try #require(throws: WardenCryptoError.self) { try second.open(v1, context: context) }
        #expect(retired.code == .retiredKeyVersion)
        #expect(try SecureFile.permissions(directory.path + "/keyring.json") == 0o600)
    }

    @Test func aWrongMasterKeyIsRefusedBeforeAnythingIsWritten() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let cipher = try await loadCipher(directory.path)
        try await cipher.close()
        let before = try #require(try SecureFile.read(directory.path + "/keyring.json"))
        let error = try await #require(throws: WardenCryptoError.self) {
            _ = try await loadCipher(directory.path, masterKey: testMasterKey(0x43))
        }
        #expect(error.code == .wrongMasterKey)
        #expect(try SecureFile.read(directory.path + "/keyring.json") == before)
    }

    @Test func aWrongMasterKeyIsRefusedByEveryChange() async throws {
        // Another process replaces the keyring with one made under a different master key while this
        // one runs: its next change refuses to build on it.
        let store = MemoryKeyringStore()
        let fixture = try await CipherFixture.make(store: store)
        let foreign = try KeyringDocument.create(masterKey: testMasterKey(0x01), now: Date())
        await store.overwrite(foreign)
        let error = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.rotate() }
        #expect(error.code == .wrongMasterKey)
        #expect(await store.load() == foreign)
    }

    @Test(arguments: ["minimumDecryptionVersion", "primaryVersion", "sealsReserved", "created", "generation", "wrappedKey", "mac"])
    func anyEditToTheStoredDocumentIsDetected(_ field: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let cipher = try await loadCipher(directory.path)
        _ = try await cipher.seal(Data("x".utf8), context: context)
        try await cipher.rotate()
        try await cipher.rotate()
        try await cipher.retire(below: 2)
        try await cipher.close()
        let path = directory.path + "/keyring.json"
        let stored = try #require(try SecureFile.read(path))
        var json = try #require(try JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any])
        var versions = try #require(json["versions"] as? [[String: Any]])
        switch field {
        case "minimumDecryptionVersion": json[field] = 1
        case "primaryVersion": json[field] = 2
        case "generation": json[field] = (json[field] as! Int) + 1
        case "mac": json[field] = Base64.encode([UInt8](repeating: 0, count: 32))
        case "sealsReserved": versions[0][field] = 0
        case "created": versions[2][field] = "2020-01-01T00:00:00Z"
        case "wrappedKey": versions[1][field] = versions[0][field]
        default: Issue.record("unknown field")
        }
        json["versions"] = versions
        try SecureFile.replaceAtomically(path, bytes: JSONSerialization.data(withJSONObject: json))
        let error = try await #require(throws: WardenCryptoError.self) { _ = try await loadCipher(directory.path) }
        #expect(error.code == .keyringCorrupt)
    }

    @Test func garbageInTheKeyringFileIsReportedAsCorrupt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try SecureFile.replaceAtomically(directory.path + "/keyring.json", bytes: Array("{not json".utf8))
        let error = try await #require(throws: WardenCryptoError.self) { _ = try await loadCipher(directory.path) }
        #expect(error.code == .keyringCorrupt)
    }

    @Test func sealCountsSurviveACleanRestartExactly() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let policy = KeyringPolicy(sealReservation: 100)
        let first = try await loadCipher(directory.path, policy: policy)
        for _ in 0..<250 { _ = try await first.seal(Data("x".utf8), context: context) }
        #expect(first.sealCount(version: 1) == 250)
        try await first.close()
        let second = try await loadCipher(directory.path, policy: policy)
        #expect(second.keyring.info(for: 1)?.sealCount == 250)
    }

    @Test func aCrashCountsTheLostReservationAsUsed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let policy = KeyringPolicy(sealLimit: 1_000, sealReservation: 100)
        let crashed = try await loadCipher(directory.path, policy: policy)
        for _ in 0..<30 { _ = try await crashed.seal(Data("x".utf8), context: context) }
        // No close(): the process "crashes" here.
        let restarted = try await loadCipher(directory.path, policy: policy)
        let counted = try #require(restarted.keyring.info(for: 1)?.sealCount)
        #expect(counted >= 30)
        #expect(counted <= 30 + 100)
        // The lost reservation stays counted, so the limit still holds across the crash.
        var sealedAfter = 0
        while try await restarted.seal(Data("x".utf8), context: context).keyVersion == 1 { sealedAfter += 1 }
        #expect(UInt64(30 + sealedAfter) <= policy.sealLimit)
        #expect(UInt64(sealedAfter) == policy.sealLimit - counted)
    }

    @Test func twoProcessesSharingAFileStoreKeepOneConsistentKeyring() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let policy = KeyringPolicy(sealReservation: 10)
        let a = try await loadCipher(directory.path, policy: policy)
        let b = try await loadCipher(directory.path, policy: policy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for cipher in [a, b] {
                group.addTask { for _ in 0..<200 { _ = try await cipher.seal(Data("x".utf8), context: context) } }
            }
            group.addTask { for _ in 0..<3 { try await a.rotate() } }
            try await group.waitForAll()
        }
        try await a.close()
        try await b.close()
        let reloaded = try await loadCipher(directory.path, policy: policy)
        #expect(reloaded.keyring.primaryVersion == 4)
        let total = reloaded.keyring.versions.reduce(0) { $0 + $1.sealCount }
        #expect(total == 400)
    }
}
