import Foundation
import SQLKit
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL
import WardenTestSupport

let testMasterKey = try! MasterKey(bytes: [UInt8](repeating: 0x42, count: 32))
let testChain = AuditChain(key: testMasterKey.auditKey)

/// A migrated store on a fresh database.
struct StoreFixture: Sendable {
    let database: TestDatabase
    let store: SQLStore
    let reconnect: @Sendable () async throws -> any SQLBackend
    let cleanup: @Sendable () async -> Void

    static func make(_ database: TestDatabase) async throws -> StoreFixture {
        let (backend, reconnect, cleanup) = try await database.makeBackend()
        try await Migrations.migrate(backend)
        return StoreFixture(
            database: database, store: SQLStore(backend: backend, auditChain: testChain, keyringActor: "test"),
            reconnect: reconnect, cleanup: cleanup)
    }

    /// A second store on the same database: another node.
    func secondNode() async throws -> SQLStore {
        SQLStore(backend: try await reconnect(), auditChain: testChain, keyringActor: "node-2")
    }

    /// Runs raw SQL, as an attacker with database access (or an operator) would.
    func sql(_ query: String) async throws {
        try await store.backend.withConnection { try await $0.raw(SQLQueryString(query)).run() }
    }
}
