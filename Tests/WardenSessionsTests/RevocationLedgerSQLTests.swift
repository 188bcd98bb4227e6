import Foundation
import Testing
import WardenAudit
import WardenCrypto
import WardenSQL
import WardenSessions
import WardenTestSupport

/// The SQL revocation ledger on both databases: owners, the per-account bound, durable refresh rotations.
struct RevocationLedgerSQLTests {
    static let chain = AuditChain(key: try! MasterKey(bytes: [UInt8](repeating: 0x42, count: 32)).auditKey)

    static func store(_ database: TestDatabase) async throws -> (SQLStore, @Sendable () async -> Void) {
        let (backend, _, cleanup) = try await database.makeBackend()
        try await Migrations.migrate(backend)
        return (SQLStore(backend: backend, auditChain: chain, keyringActor: "test"), cleanup)
    }

    static func now() -> Date { Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000) }

    @Test(arguments: TestDatabase.allCases)
    func aRowNeverChangesOwner(_ database: TestDatabase) async throws {
        let (store, cleanup) = try await Self.store(database)
        let alice = UUID()
        let mallory = UUID()
        let now = Self.now()
        try await store.recordRevokedSessions(["h1"], accountID: alice, at: now, until: now.addingTimeInterval(60), limit: 10)
        try await store.recordRevokedSessions(["h1"], accountID: mallory, at: now, until: now.addingTimeInterval(120), limit: 10)
        let rows = try await store.activeRevocations(now: now).sessions
        #expect(rows.map(\.hash) == ["h1"] && rows.map(\.accountID) == [alice])
        // The owner's own record still extends it.
        try await store.recordRevokedSessions(["h1"], accountID: alice, at: now, until: now.addingTimeInterval(120), limit: 10)
        #expect(try await store.activeRevocations(now: now.addingTimeInterval(90)).sessions.map(\.accountID) == [alice])
        await cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func pastTheLimitTheOldestRowsFoldIntoTheWatermark(_ database: TestDatabase) async throws {
        let (store, cleanup) = try await Self.store(database)
        let alice = UUID()
        let bob = UUID()
        let now = Self.now()
        for index in 0..<5 {
            try await store.recordRevokedSessions(
                ["a\(index)"], accountID: alice, at: now.addingTimeInterval(Double(index)), until: now.addingTimeInterval(3600), limit: 3)
        }
        try await store.recordRevokedSessions(["b0"], accountID: bob, at: now, until: now.addingTimeInterval(3600), limit: 3)
        let revocations = try await store.activeRevocations(now: now.addingTimeInterval(5))
        #expect(revocations.sessions.filter { $0.accountID == alice }.map(\.hash) == ["a2", "a3", "a4"])
        #expect(revocations.sessions.filter { $0.accountID == bob }.map(\.hash) == ["b0"])
        // a0 and a1 were revoked at now and now + 1 s: the watermark covers every session created by then.
        #expect(revocations.watermarks.filter { $0.accountID == alice }.map(\.at) == [now.addingTimeInterval(1)])
        #expect(!revocations.watermarks.contains { $0.accountID == bob })
        await cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func twentyConcurrentRotationsOfOneTokenAreRecordedOnce(_ database: TestDatabase) async throws {
        let (store, cleanup) = try await Self.store(database)
        let alice = UUID()
        let until = Self.now().addingTimeInterval(3600)
        var presented = "r0"
        for round in 0..<2 {
            // Round 0 creates the session's row, round 1 moves it.
            let from = presented
            let results = try await withThrowingTaskGroup(of: (Bool, String).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let next = "r\(round + 1)-\(index)"
                        return (
                            try await store.recordRefreshRotation(
                                sessionHash: "s", accountID: alice, presented: from, next: next, generation: Int64(round + 1), until: until), next
                        )
                    }
                }
                return try await group.reduce(into: [(Bool, String)]()) { $0.append($1) }
            }
            let winners = results.filter(\.0).map(\.1)
            #expect(winners.count == 1, "round \(round)")
            presented = try #require(winners.first)
        }
        await cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func aStoreBehindTheLedgerIsBroughtForwardOnlyByTheNewestToken(_ database: TestDatabase) async throws {
        let (store, cleanup) = try await Self.store(database)
        let alice = UUID()
        let until = Self.now().addingTimeInterval(3600)
        #expect(try await store.recordRefreshRotation(sessionHash: "s", accountID: alice, presented: "r0", next: "r1", generation: 1, until: until))
        #expect(try await store.recordRefreshRotation(sessionHash: "s", accountID: alice, presented: "r1", next: "r2", generation: 2, until: until))
        // A store restored to generation 0 reports r2 as stale: the ledger knows it as the newest.
        #expect(try await store.adoptRefreshRotation(sessionHash: "s", accountID: alice, presented: "r2", next: "r3", storeGeneration: 0, until: until) == 3)
        // Older tokens, another account, or a store that is not behind: nothing.
        #expect(try await store.adoptRefreshRotation(sessionHash: "s", accountID: alice, presented: "r1", next: "x", storeGeneration: 0, until: until) == nil)
        #expect(try await store.adoptRefreshRotation(sessionHash: "s", accountID: UUID(), presented: "r3", next: "x", storeGeneration: 0, until: until) == nil)
        #expect(try await store.adoptRefreshRotation(sessionHash: "s", accountID: alice, presented: "r3", next: "x", storeGeneration: 3, until: until) == nil)
        // A rotation from a token the ledger has moved past is refused.
        #expect(try await store.recordRefreshRotation(sessionHash: "s", accountID: alice, presented: "r1", next: "y", generation: 1, until: until) == false)
        #expect(try await store.recordRefreshRotation(sessionHash: "s", accountID: alice, presented: "r3", next: "r4", generation: 4, until: until))
        await cleanup()
    }
}
