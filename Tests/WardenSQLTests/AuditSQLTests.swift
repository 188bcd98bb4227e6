import Crypto
import Foundation
import SQLKit
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL
import WardenTestSupport

/// The audit log in SQL: one chain across nodes, fail-closed writes, and tampering detected.
struct AuditSQLTests {
    static func event(_ n: Int, actor: String = "test") -> AuditEvent {
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_800_000_000 + Double(n)), action: "test.event", outcome: .success, actor: actor,
            subject: "thing:\(n)", sourceAddress: "198.51.100.\(n % 250)", requestID: "r\(n)", details: ["n": String(n)])
    }

    func filled(_ database: TestDatabase, count: Int = 10) async throws -> StoreFixture {
        let fixture = try await StoreFixture.make(database)
        for n in 1...count { try await fixture.store.append([Self.event(n)]) }
        return fixture
    }

    func verify(_ fixture: StoreFixture) async throws -> AuditVerifier.Result {
        try await AuditVerifier(chain: testChain, pageSize: 4).verify(fixture.store)
    }

    @Test(arguments: TestDatabase.allCases)
    func concurrentWritersOnTwoNodesKeepOneValidChain(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        let node2 = try await fixture.secondNode()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<10 {
                let store = writer.isMultiple(of: 2) ? fixture.store : node2
                group.addTask { for n in 0..<10 { try await store.append([Self.event(writer * 100 + n, actor: "writer-\(writer)")]) } }
            }
            try await group.waitForAll()
        }
        #expect(try await verify(fixture) == .intact(entries: 100))
        #expect(try await AuditVerifier(chain: testChain).verify(node2) == .intact(entries: 100))
        try await node2.close()
        await fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func anActionFailsWhenItsAuditEntryCannotBeWritten(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        let cipher = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey)
        let accounts = AccountService(store: fixture.store, hasher: PasswordHasher(parameters: AccountStoreSQLTests.fastHashes), cipher: cipher)
        switch database {
        case .sqlite:
            try await fixture.sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON warden_audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
        case .postgres:
            try await fixture.sql("CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql")
            try await fixture.sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON warden_audit FOR EACH ROW EXECUTE FUNCTION refuse_audit()")
        }
        await #expect(throws: (any Error).self) {
            _ = try await accounts.create(username: "ghost", password: nil, context: AuditContext(actor: "test"))
        }
        #expect(try await fixture.store.accounts().isEmpty)
        await #expect(throws: (any Error).self) { try await cipher.rotate() }
        #expect(try await fixture.store.load()?.primaryVersion == 1)
        try await fixture.sql("DROP TRIGGER refuse_audit\(database == .postgres ? " ON warden_audit" : "")")
        _ = try await accounts.create(username: "ghost", password: nil, context: AuditContext(actor: "test"))
        #expect(try await verify(fixture) == .intact(entries: 2))
        await fixture.cleanup()
    }

    enum Tampering: String, CaseIterable, CustomTestStringConvertible {
        case editAction, editDetails, editTime, editActor, deleteMiddle, deleteFirst, deleteLast, swapRows, renumber, forgeHash, editHead
        var testDescription: String { rawValue }

        var sql: [String] {
            switch self {
            case .editAction: ["UPDATE warden_audit SET action = 'test.other' WHERE seq = 4"]
            case .editDetails: ["UPDATE warden_audit SET details = '{\"n\":\"99\"}' WHERE seq = 5"]
            case .editTime: ["UPDATE warden_audit SET at_ms = at_ms + 1 WHERE seq = 6"]
            case .editActor: ["UPDATE warden_audit SET actor = 'someone-else' WHERE seq = 2"]
            case .deleteMiddle: ["DELETE FROM warden_audit WHERE seq = 5"]
            case .deleteFirst: ["DELETE FROM warden_audit WHERE seq = 1"]
            case .deleteLast: ["DELETE FROM warden_audit WHERE seq = 10"]
            case .swapRows:
                [
                    "UPDATE warden_audit SET seq = -3 WHERE seq = 3",
                    "UPDATE warden_audit SET seq = 3 WHERE seq = 7",
                    "UPDATE warden_audit SET seq = 7 WHERE seq = -3",
                ]
            case .renumber: ["UPDATE warden_audit SET seq = seq + 100 WHERE seq >= 8"]
            case .forgeHash: ["UPDATE warden_audit SET hash = previous_hash WHERE seq = 3"]
            case .editHead: ["UPDATE warden_audit_head SET seq = 9"]
            }
        }

        var brokenAt: Int64 {
            switch self {
            case .editAction: 4
            case .editDetails: 5
            case .editTime: 6
            case .editActor: 2
            case .deleteMiddle: 5
            case .deleteFirst: 1
            case .deleteLast: 10
            case .swapRows: 3
            case .renumber: 8
            case .forgeHash: 3
            case .editHead: 9
            }
        }
    }

    @Test(arguments: TestDatabase.allCases, Tampering.allCases)
    func tamperingIsDetectedAtTheFirstBrokenEntry(_ database: TestDatabase, _ tampering: Tampering) async throws {
        let fixture = try await filled(database)
        #expect(try await verify(fixture) == .intact(entries: 10))
        for statement in tampering.sql { try await fixture.sql(statement) }
        let result = try await verify(fixture)
        guard case .broken(let sequence, _) = result else {
            Issue.record("\(tampering) went unnoticed: \(result)")
            await fixture.cleanup()
            return
        }
        #expect(sequence == tampering.brokenAt, "\(result)")
        await fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func aChainRewrittenWithAnotherKeyIsDetected(_ database: TestDatabase) async throws {
        let fixture = try await filled(database, count: 3)
        // Someone with database access but not the master key rebuilds the whole chain with their own key.
        let forger = SQLStore(backend: fixture.store.backend, auditChain: AuditChain(key: .init(size: .bits256)), keyringActor: "forger")
        try await fixture.sql("DELETE FROM warden_audit")
        try await fixture.sql("DELETE FROM warden_audit_head")
        for n in 1...3 { try await forger.append([Self.event(n)]) }
        #expect(try await verify(fixture) == .broken(sequence: 1, reason: "MAC does not verify (rewritten without the key)"))
        await fixture.cleanup()
    }
}
