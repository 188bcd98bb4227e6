import Foundation
import SQLKit
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL

/// The databases the store suite runs against: SQLite, and the real PostgreSQL server the test script
/// starts (`WARDEN_TEST_POSTGRES_URL`). Each test gets a database of its own.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES_URL"]

    typealias Made = (backend: any SQLBackend, reconnect: @Sendable () async throws -> any SQLBackend, cleanup: @Sendable () async -> Void)

    /// A fresh, empty database (no migrations applied), a way to open another connection to it (another
    /// "node"), and how to remove it.
    func makeBackend() async throws -> Made {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-sql-\(UUID().uuidString)").path
            let backend = try await SQLiteBackend.open(path: directory + "/warden.db")
            return (backend, { try await SQLiteBackend.open(path: directory + "/warden.db") }, {
                try? await backend.close()
                try? FileManager.default.removeItem(atPath: directory)
            })
        case .postgres:
            guard let admin = Self.postgresURL else {
                throw TestSetupError(description: "WARDEN_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL")
            }
            let name = "warden_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            let adminBackend = try PostgresBackend.connect(url: admin, maxConnections: 1)
            try await adminBackend.withConnection { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            let url = admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
            let backend = try PostgresBackend.connect(url: url)
            return (backend, { try PostgresBackend.connect(url: url) }, {
                try? await backend.close()
                try? await adminBackend.withConnection { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                try? await adminBackend.close()
            })
        }
    }

}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

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
