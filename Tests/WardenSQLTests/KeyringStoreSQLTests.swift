import Foundation
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL
import WardenTestSupport

/// The keyring in SQL: persistence, nodes noticing each other's changes, and keyring events audited.
struct KeyringStoreSQLTests {
    @Test(arguments: TestDatabase.allCases)
    func theKeyringSurvivesARestartAndIsAudited(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        let cipher = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey)
        let v1 = try await cipher.seal(Data("one".utf8), context: "c")
        try await cipher.rotate()
        try await cipher.retire(below: 2)
        try await cipher.close()

        let restarted = try await FieldCipher.load(store: try await fixture.secondNode(), masterKey: testMasterKey)
        #expect(restarted.keyring.versions.map(\.state) == [.retired, .primary])
        let error = try #require(throws: WardenCryptoError.self) { try restarted.open(v1, context: "c") }
        #expect(error.code == .retiredKeyVersion)

        let actions = try await fixture.store.latest(limit: 10).map(\.event.action)
        #expect(actions == ["keyring.created", "key.rotated", "key.retired"])
        #expect(try await AuditVerifier(chain: testChain).verify(fixture.store) == .intact(entries: 3))
        await fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func aWrongMasterKeyIsRefusedBeforeAnythingIsWritten(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        _ = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey)
        let before = try await fixture.store.load()
        let wrong = try MasterKey(bytes: [UInt8](repeating: 7, count: 32))
        let error = try await #require(throws: WardenCryptoError.self) { _ = try await FieldCipher.load(store: fixture.store, masterKey: wrong) }
        #expect(error.code == .wrongMasterKey)
        #expect(try await fixture.store.load() == before)
        #expect(try await fixture.store.latest(limit: 10).count == 1)
        await fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func anotherNodeNoticesANewVersionWithinOneMaintenanceInterval(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        let nodeA = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey)
        let nodeB = try await FieldCipher.load(store: try await fixture.secondNode(), masterKey: testMasterKey)
        let ticks = ManualClock()
        let loop = Task { try await nodeB.runMaintenance(every: .seconds(10), clock: ticks) }
        defer { loop.cancel() }

        try await nodeA.rotate()
        let sealed = try await nodeA.seal(Data("x".utf8), context: "c")
        #expect(nodeB.keyring.primaryVersion == 1)
        let generation = try await fixture.store.keyringGeneration()
        #expect(generation == nodeA.keyring.generation)

        while ticks.sleeperCount == 0 { await Task.yield() }
        ticks.advance(by: .seconds(10))
        while nodeB.keyring.primaryVersion != 2 { await Task.yield() }
        #expect(try nodeB.open(sealed, context: "c").plaintext == Data("x".utf8))
        loop.cancel()
        await fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentSealsFromTwoNodesKeepExactCounts(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        var configuration = FieldCipher.Configuration()
        configuration.policy = KeyringPolicy(sealReservation: 25)
        let a = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey, configuration: configuration)
        let b = try await FieldCipher.load(store: try await fixture.secondNode(), masterKey: testMasterKey, configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for cipher in [a, b] {
                for _ in 0..<4 {
                    group.addTask { for _ in 0..<50 { _ = try await cipher.seal(Data("x".utf8), context: "c") } }
                }
            }
            try await group.waitForAll()
        }
        try await a.close()
        try await b.close()
        #expect(try await fixture.store.load()?.versions.first?.sealsReserved == 400)
        await fixture.cleanup()
    }
}
