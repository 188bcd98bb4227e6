import Foundation
import SQLKit
import Testing
import WardenSQL
import WardenTestSupport

/// Schema migrations on both databases: fresh, re-run, concurrent, and too new.
struct MigrationTests {
    @Test(arguments: TestDatabase.allCases)
    func freshDatabaseThenNoOp(_ database: TestDatabase) async throws {
        let (backend, _, cleanup) = try await database.makeBackend()
        defer { Task { await cleanup() } }
        #expect(try await Migrations.status(backend).applied == [])
        #expect(try await Migrations.migrate(backend) == Array(1...Migrations.latestVersion))
        #expect(try await Migrations.migrate(backend) == [])
        let status = try await Migrations.status(backend)
        #expect(status.applied == Array(1...Migrations.latestVersion))
        #expect(status.pending.isEmpty)
        try await Migrations.checkCurrent(backend)
        let roles = try await backend.withConnection { try await $0.raw("SELECT COUNT(*) AS n FROM warden_roles").first()!.decode(column: "n", as: Int64.self) }
        #expect(roles == 19)
        await cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func nodesMigratingAtOnceApplyEachMigrationOnce(_ database: TestDatabase) async throws {
        let (backend, reconnect, cleanup) = try await database.makeBackend()
        var nodes: [any SQLBackend] = [backend]
        for _ in 0..<3 { nodes.append(try await reconnect()) }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for node in nodes { group.addTask { try await Migrations.migrate(node) } }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(applied.sorted() == Array(1...Migrations.latestVersion))
        #expect(try await Migrations.status(backend).applied == Array(1...Migrations.latestVersion))
        let roles = try await backend.withConnection { try await $0.raw("SELECT COUNT(*) AS n FROM warden_role_permissions").first()!.decode(column: "n", as: Int64.self) }
        #expect(roles > 0)
        for node in nodes.dropFirst() { try await node.close() }
        await cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func aNewerDatabaseIsRefused(_ database: TestDatabase) async throws {
        let (backend, _, cleanup) = try await database.makeBackend()
        try await Migrations.migrate(backend)
        try await backend.withConnection {
            try await $0.raw("INSERT INTO warden_schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)").run()
        }
        let error = try await #require(throws: SQLStoreError.self) { try await Migrations.migrate(backend) }
        #expect(error.code == .schemaTooNew)
        #expect(error.message.contains("version 99"))
        await #expect(throws: SQLStoreError.self) { try await Migrations.checkCurrent(backend) }
        await cleanup()
    }

    @Test func aPostgresURLNeverEchoesItsPassword() throws {
        for bad in ["mysql://u:hunter2@h/db", "postgres://:hunter2@h/db", "postgres://u:hunter2@h/db?sslmode=sometimes"] {
            let error = try #require(throws: SQLStoreError.self) { _ = try PostgresBackend.connect(url: bad) }
            #expect(!error.message.contains("hunter2"))
        }
    }
}
