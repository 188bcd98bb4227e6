import Foundation
import SQLKit
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL
import WardenTestSupport

/// Accounts, roles and the audit log through the SQL store, on both databases.
struct AccountStoreSQLTests {
    static let fastHashes = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)
    static let context = AuditContext(actor: "test:admin", sourceAddress: "192.0.2.7", requestID: "req-1")

    struct Services {
        let fixture: StoreFixture
        let cipher: FieldCipher
        let accounts: AccountService
        let access: AccessService

        static func make(_ database: TestDatabase) async throws -> Services {
            let fixture = try await StoreFixture.make(database)
            let cipher = try await FieldCipher.load(store: fixture.store, masterKey: testMasterKey)
            return Services(
                fixture: fixture, cipher: cipher,
                accounts: AccountService(store: fixture.store, hasher: PasswordHasher(parameters: fastHashes), cipher: cipher),
                access: AccessService(store: fixture.store))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func accountsRoundTripWithSealedContactDetails(_ database: TestDatabase) async throws {
        let services = try await Services.make(database)
        let created = try await services.accounts.create(
            username: "Ada", password: "correct horse battery staple", email: "ada@example.com", phone: "+447700900123",
            context: Self.context)
        #expect(try await services.accounts.account(username: "ADA") == created)
        #expect(created.email == "ada@example.com")
        #expect(created.phone == "+447700900123")

        // At rest: sealed, bound to this row and column.
        let stored = try #require(try await services.fixture.store.account(id: created.id))
        #expect(stored.email?.hasPrefix("wd1:") == true)
        #expect(stored.phone?.hasPrefix("wd1:") == true)
        #expect(stored.passwordHash?.hasPrefix("$scrypt$ln=10,r=8,p=1$") == true)

        // Another account's sealed phone copied into this row does not open.
        let other = try await services.accounts.create(username: "mallory", password: "another long passphrase", phone: "+15555550100", context: Self.context)
        let otherPhone = try #require(try await services.fixture.store.account(id: other.id)?.phone)
        try await services.fixture.sql("UPDATE warden_accounts SET phone = '\(otherPhone)' WHERE username = 'Ada'")
        await #expect(throws: WardenCryptoError.decryptionFailed) { _ = try await services.accounts.account(id: created.id) }
        await services.fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func thirtyConcurrentCreationsOfOneUsernameMakeOneAccount(_ database: TestDatabase) async throws {
        let services = try await Services.make(database)
        let node2 = try await services.fixture.secondNode()
        let accounts2 = AccountService(store: node2, hasher: PasswordHasher(parameters: Self.fastHashes), cipher: services.cipher)
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<30 {
                let service = index.isMultiple(of: 2) ? services.accounts : accounts2
                group.addTask {
                    do {
                        _ = try await service.create(username: index.isMultiple(of: 3) ? "Grace" : "grace", password: nil, context: Self.context)
                        return "created"
                    } catch let error as AccessError {
                        return error.code.rawValue
                    } catch {
                        return "unexpected: \(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "created" }.count == 1)
        #expect(outcomes.filter { $0 == AccessError.Code.usernameTaken.rawValue }.count == 29)
        #expect(try await services.fixture.store.accounts().count == 1)
        let created = try await services.fixture.store.latest(limit: 100).filter { $0.event.action == "account.created" }
        #expect(created.count == 1)
        try await node2.close()
        await services.fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func loginsAreAudited(_ database: TestDatabase) async throws {
        let services = try await Services.make(database)
        let account = try await services.accounts.create(username: "linus", password: "a perfectly fine passphrase", context: Self.context)
        await #expect(throws: AccessError.invalidCredentials) {
            try await services.accounts.authenticate(username: "linus", password: "not-the-password-7", context: Self.context)
        }
        await #expect(throws: AccessError.invalidCredentials) {
            try await services.accounts.authenticate(username: "nobody", password: "not-the-password-7", context: Self.context)
        }
        let loggedIn = try await services.accounts.authenticate(username: "LINUS", password: "a perfectly fine passphrase", context: Self.context)
        #expect(loggedIn.id == account.id)
        let events = try await services.fixture.store.latest(limit: 10).map(\.event)
        #expect(events.map(\.action) == ["keyring.created", "account.created", "login.failed", "login.failed", "login.succeeded"])
        #expect(events[2].details["reason"] == "wrong_password")
        #expect(events[3].details["reason"] == "unknown_user")
        #expect(events.allSatisfy { $0.sourceAddress == "192.0.2.7" || $0.action == "keyring.created" })
        #expect(events.allSatisfy { !$0.details.values.contains { $0.contains("passphrase") || $0.contains("not-the-password") } })
        await services.fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func rolesGrantsAndExpiry(_ database: TestDatabase) async throws {
        let services = try await Services.make(database)
        let account = try await services.accounts.create(username: "ops", password: nil, context: Self.context)
        let authorizer = Authorizer(store: services.fixture.store)
        let rotate = Permission("keys:manage")!
        #expect(try await authorizer.permissions(of: account).isEmpty)
        #expect(try await authorizer.permissions(ofAccount: account.id) == [])
        #expect(try await !authorizer.isAllowed(account, rotate))
        #expect(try await authorizer.permissions(ofAccount: UUID()) == nil)

        try await services.access.grant("operator", to: account, context: Self.context)
        let permissions = try await authorizer.permissions(of: account)
        #expect(permissions.count == 14)
        // The one-query read (status and grants, what a request's permission check uses) agrees.
        #expect(try await authorizer.permissions(ofAccount: account.id) == permissions)
        #expect(try await authorizer.isAllowed(account, Permission("user:read")!))
        #expect(try await !authorizer.isAllowed(account, Permission("user:delete")!))

        // A change takes effect at the next check.
        try await services.access.grant("key_admin", to: account, context: Self.context)
        #expect(try await authorizer.isAllowed(account, rotate))
        #expect(try await authorizer.permissions(ofAccount: account.id)?.contains { $0.covers(rotate) } == true)
        try await services.access.revoke("key_admin", from: account, context: Self.context)
        #expect(try await !authorizer.isAllowed(account, rotate))
        #expect(try await authorizer.permissions(ofAccount: account.id) == permissions)

        // An expired grant gives nothing.
        try await services.fixture.sql("UPDATE warden_grants SET expires_at = 1000 WHERE role = 'operator'")
        #expect(try await authorizer.permissions(of: account).isEmpty)
        #expect(try await authorizer.permissions(ofAccount: account.id) == [])
        #expect(try await services.fixture.store.standing(accountID: account.id)?.grants.map(\.role) == ["operator"])

        // Unknown roles and accounts are refused.
        let unknownRole = try await #require(throws: AccessError.self) {
            try await services.access.grant("wizard", to: account, context: Self.context)
        }
        #expect(unknownRole.code == .roleNotFound)

        // A disabled account has no permissions at all.
        try await services.access.grant("super_admin", to: account, context: Self.context)
        #expect(try await authorizer.isAllowed(account, Permission("anything:at_all")!))
        let disabled = try await services.accounts.setStatus(id: account.id, to: .disabled, context: Self.context)
        #expect(try await authorizer.permissions(of: disabled).isEmpty)
        #expect(try await authorizer.permissions(ofAccount: account.id) == nil)
        #expect(try await services.fixture.store.standing(accountID: account.id)?.status == .disabled)

        let actions = try await services.fixture.store.latest(limit: 20).map(\.event.action)
        #expect(actions.filter { $0 == "role.granted" }.count == 3)
        #expect(actions.filter { $0 == "role.revoked" }.count == 1)
        await services.fixture.cleanup()
    }

    @Test(arguments: TestDatabase.allCases)
    func deletingAnAccountRemovesItsGrants(_ database: TestDatabase) async throws {
        let services = try await Services.make(database)
        let account = try await services.accounts.create(username: "temp", password: nil, context: Self.context)
        try await services.access.grant("auditor", to: account, context: Self.context)
        try await services.accounts.delete(id: account.id, context: Self.context)
        #expect(try await services.fixture.store.account(id: account.id) == nil)
        #expect(try await services.fixture.store.grants(accountID: account.id).isEmpty)
        await services.fixture.cleanup()
    }
}
