import Foundation
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto

/// Accounts and password logins on the in-memory directory.
struct AccountServiceTests {
    let password = "correct horse battery staple"

    @Test(arguments: ["ada", "Ada Lovelace", "josé", "zoë.x_1-2@home+tag", "Ελένη", "Дмитрий", "דוד", "محمد", "देवनागरी", "สมชาย", "山田太郎", "やまだ", "김민수"])
    func usernamesOfOneScriptAreAccepted(_ username: String) async throws {
        let fixture = try await AccessFixture.make()
        #expect(try await fixture.accounts.create(username: username, context: adminContext).username == username.precomposedStringWithCompatibilityMapping)
    }

    @Test func usernamesAreUniqueRegardlessOfCaseAndWidth() async throws {
        let fixture = try await AccessFixture.make()
        _ = try await fixture.accounts.create(username: "Ada", context: adminContext)
        for duplicate in ["ada", "ADA", "Ａｄａ"] {
            let error = try await #require(throws: AccessError.self) { _ = try await fixture.accounts.create(username: duplicate, context: adminContext) }
            #expect(error.code == .usernameTaken)
        }
        #expect(try await fixture.accounts.account(username: "ａｄａ")?.username == "Ada")
    }

    @Test(arguments: [
        "", " ada", "ada ", "a/b", "a:b", "tab\there", String(repeating: "x", count: 65),
        // Scalars, not graphemes: one letter with 60,000 combining marks is no short name.
        "a" + String(repeating: "\u{0301}", count: 60_000), "a\u{0301}\u{0302}\u{0303}\u{0304}",
        // Mixed scripts (a Cyrillic "а" in a Latin name), symbols, emoji, invisible characters, marks alone.
        "\u{0430}dmin", "admin\u{200B}", "bob👍", "a%b", "\u{0301}", "a\u{202E}b",
    ])
    func invalidUsernamesAreRefused(_ username: String) async throws {
        let fixture = try await AccessFixture.make()
        let error = try await #require(throws: AccessError.self) { _ = try await fixture.accounts.create(username: username, context: adminContext) }
        #expect(error.code == .invalidUsername)
    }

    @Test(arguments: [("not-an-email", nil), ("a@b", nil), ("wd1:1:abc@example.com", nil), (nil, "07700900123"), (nil, "+12"), (nil, "+4477009001234567")] as [(String?, String?)])
    func invalidContactsAreRefused(_ email: String?, _ phone: String?) async throws {
        let fixture = try await AccessFixture.make()
        let error = try await #require(throws: AccessError.self) {
            _ = try await fixture.accounts.create(username: "x", email: email, phone: phone, context: adminContext)
        }
        #expect(error.code == .invalidContact)
    }

    @Test func contactDetailsAreSealedUnlessEmailsAreNotSensitive() async throws {
        let sealed = try await AccessFixture.make()
        let account = try await sealed.accounts.create(username: "ada", email: "ada@example.com", phone: "+447700900123", context: adminContext)
        let stored = try #require(await sealed.directory.account(id: account.id))
        #expect(stored.email?.hasPrefix("wd1:") == true)
        #expect(stored.phone?.hasPrefix("wd1:") == true)
        // Bound to the account: the same value opens only under this account's context.
        #expect(throws: WardenCryptoError.decryptionFailed) { try sealed.cipher.open(stored.email!, context: "accounts/someone-else/email") }

        let plain = try await AccessFixture.make { $0.emailsAreSensitive = false }
        let other = try await plain.accounts.create(username: "bob", email: "bob@example.com", phone: "+447700900124", context: adminContext)
        let storedPlain = try #require(await plain.directory.account(id: other.id))
        #expect(storedPlain.email == "bob@example.com")
        #expect(storedPlain.phone?.hasPrefix("wd1:") == true)
    }

    @Test func loginSucceedsAndFailsWithOneGenericError() async throws {
        let fixture = try await AccessFixture.make()
        let account = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        #expect(try await fixture.accounts.authenticate(username: "Ada", password: password, context: adminContext).id == account.id)
        for (username, attempt) in [("ada", "wrong password here"), ("nobody", password), ("ada", ""), ("", password)] {
            await #expect(throws: AccessError.invalidCredentials) {
                _ = try await fixture.accounts.authenticate(username: username, password: attempt, context: adminContext)
            }
        }
        let reasons = fixture.auditLog.events.filter { $0.action == "login.failed" }.compactMap { $0.details["reason"] }
        #expect(reasons == ["wrong_password", "unknown_user", "wrong_password", "unknown_user"])
    }

    @Test func repeatedFailuresLockTheAccountUntilTheLockExpires() async throws {
        let fixture = try await AccessFixture.make { $0.loginPolicy = LoginPolicy(lockThreshold: 3, lockDuration: 600) }
        let account = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        for _ in 0..<3 {
            await #expect(throws: AccessError.invalidCredentials) {
                _ = try await fixture.accounts.authenticate(username: "ada", password: "guessing wrongly", context: adminContext)
            }
        }
        // The status stays active (sessions and permissions are untouched); the lock is a time.
        let locked = try #require(try await fixture.accounts.account(id: account.id))
        #expect(locked.status == .active && locked.lockedUntil != nil)
        // The right password does not get in while locked, and says nothing more.
        await #expect(throws: AccessError.invalidCredentials) {
            _ = try await fixture.accounts.authenticate(username: "ada", password: password, context: adminContext)
        }
        // Guessing during the lock neither counts nor extends it; a trusted device gets in meanwhile.
        for _ in 0..<5 {
            await #expect(throws: AccessError.invalidCredentials) {
                _ = try await fixture.accounts.authenticate(username: "ada", password: "guessing wrongly", context: adminContext)
            }
        }
        fixture.clock.advance(by: 601)
        #expect(try await fixture.accounts.authenticate(username: "ada", password: password, context: adminContext).status == .active)
        let actions = fixture.auditLog.events.map(\.action)
        #expect(actions.filter { $0 == "account.locked" }.count == 1)
        #expect(fixture.auditLog.events.last { $0.action == "login.failed" }?.details["reason"] == "locked")
    }

    @Test func disabledAccountsCannotLogInAndEnablingLiftsALock() async throws {
        let fixture = try await AccessFixture.make { $0.loginPolicy = LoginPolicy(lockThreshold: 2, lockDuration: 3600) }
        let account = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        _ = try await fixture.accounts.setStatus(id: account.id, to: .disabled, context: adminContext)
        for attempt in [password, "wrong wrong wrong", "wrong again wrong"] {
            await #expect(throws: AccessError.invalidCredentials) {
                _ = try await fixture.accounts.authenticate(username: "ada", password: attempt, context: adminContext)
            }
        }
        // Failed guesses never turn a disabled account into a merely locked one.
        #expect(try await fixture.accounts.account(id: account.id)?.status == .disabled)
        _ = try await fixture.accounts.setStatus(id: account.id, to: .active, context: adminContext)
        #expect(try await fixture.accounts.authenticate(username: "ada", password: password, context: adminContext).status == .active)
    }

    @Test func passwordsFollowThePolicyAndChangesAreAudited() async throws {
        let fixture = try await AccessFixture.make()
        let weak = try await #require(throws: AccessError.self) {
            _ = try await fixture.accounts.create(username: "ada", password: "password1234", context: adminContext)
        }
        #expect(weak.code == .weakPassword)
        let account = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        try await fixture.accounts.setPassword(id: account.id, to: "a different long passphrase", context: adminContext)
        await #expect(throws: AccessError.invalidCredentials) {
            _ = try await fixture.accounts.authenticate(username: "ada", password: password, context: adminContext)
        }
        _ = try await fixture.accounts.authenticate(username: "ada", password: "a different long passphrase", context: adminContext)
        #expect(fixture.auditLog.events.map(\.action).contains("password.changed"))
    }

    @Test func originalSystemHashesFromPythonVerifyAndAreRehashed() async throws {
        let fixture = try await AccessFixture.make()
        let legacyPassword = "Tr0ub4dor&3 from the old days"
        // The original system: hashlib.pbkdf2_hmac("sha256", password, salt, 100000).hex()
        let digest = try await python(
            "import hashlib, sys; print(hashlib.pbkdf2_hmac('sha256', sys.argv[1].encode(), sys.argv[2].encode(), 100000).hex())",
            legacyPassword, "8f2c1a9e5b7d4c3a")
        #expect(digest.count == 64)
        let hash = try #require(PasswordHash.legacy(salt: "8f2c1a9e5b7d4c3a", hexDigest: digest))
        let account = try await fixture.accounts.create(username: "veteran", legacyHash: hash, context: adminContext)
        #expect(await fixture.directory.account(id: account.id)?.passwordHash?.hasPrefix("$aivillage-pbkdf2-sha256$i=100000$") == true)

        await #expect(throws: AccessError.invalidCredentials) {
            _ = try await fixture.accounts.authenticate(username: "veteran", password: "Tr0ub4dor&3 from the new days", context: adminContext)
        }
        #expect(await fixture.directory.account(id: account.id)?.passwordHash?.hasPrefix("$aivillage") == true)
        _ = try await fixture.accounts.authenticate(username: "veteran", password: legacyPassword, context: adminContext)
        let rehashed = try #require(await fixture.directory.account(id: account.id)?.passwordHash)
        #expect(rehashed.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(fixture.auditLog.events.map(\.action).contains("password.rehashed"))
        _ = try await fixture.accounts.authenticate(username: "veteran", password: legacyPassword, context: adminContext)
    }

    @Test func hashesWithOldParametersAreUpgradedAtLogin() async throws {
        let old = try await AccessFixture.make(parameters: ScryptParameters(logN: 10, blockSize: 4, parallelism: 1))
        let account = try await old.accounts.create(username: "ada", password: password, context: adminContext)
        let stored = try #require(await old.directory.account(id: account.id))
        let upgraded = AccountService(
            store: old.directory, hasher: PasswordHasher(parameters: fastHashes), cipher: old.cipher, clock: old.clock)
        _ = try await upgraded.authenticate(username: "ada", password: password, context: adminContext)
        let after = try #require(await old.directory.account(id: account.id))
        #expect(stored.passwordHash?.hasPrefix("$scrypt$ln=10,r=4,p=1$") == true)
        #expect(after.passwordHash?.hasPrefix("$scrypt$ln=10,r=8,p=1$") == true)
    }

    @Test func actionsFailWhenTheAuditLogCannotBeWritten() async throws {
        let fixture = try await AccessFixture.make()
        let account = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        fixture.auditLog.setWritable(false)
        await #expect(throws: AuditError.self) { _ = try await fixture.accounts.create(username: "bob", context: adminContext) }
        #expect(try await fixture.accounts.account(username: "bob") == nil)
        await #expect(throws: AuditError.self) { _ = try await fixture.accounts.setStatus(id: account.id, to: .disabled, context: adminContext) }
        #expect(try await fixture.accounts.account(id: account.id)?.status == .active)
        // Even a successful login is refused when it cannot be recorded.
        await #expect(throws: AuditError.self) { _ = try await fixture.accounts.authenticate(username: "ada", password: password, context: adminContext) }
        fixture.auditLog.setWritable(true)
        #expect(try await AuditVerifier(chain: AuditChain(key: testMasterKey.auditKey)).verify(fixture.auditLog) == .intact(entries: 1))
    }

    @Test func theAuditLogNeverHoldsAPassword() async throws {
        let fixture = try await AccessFixture.make()
        let account = try await fixture.accounts.create(username: "ada", password: password, email: "ada@example.com", context: adminContext)
        _ = try? await fixture.accounts.authenticate(username: "ada", password: "my secret guess 123", context: adminContext)
        _ = try? await fixture.accounts.authenticate(username: "my secret guess 123", password: password, context: adminContext)
        try await fixture.accounts.setPassword(id: account.id, to: "another secret passphrase", context: adminContext)
        let text = fixture.auditLog.events.map { "\($0)" }.joined()
        for secret in [password, "another secret passphrase", "ada@example.com", "my secret guess 123", "secret guess"] {
            #expect(!text.contains(secret))
        }
        // A password typed as the username is recorded only as a keyed tag, equal for equal names (after
        // normalisation), different for other names and under another master key.
        let unknown = try #require(fixture.auditLog.events.last { $0.details["reason"] == "unknown_user" })
        let tag = try #require(unknown.details["username_tag"])
        #expect(tag.count == 24 && tag.allSatisfy(\.isHexDigit))
        #expect(fixture.accounts.usernameTag("my secret guess 123") == tag)
        #expect(fixture.accounts.usernameTag("my secret guess 124") != tag)
        let other = try await AccessFixture.make(masterKey: MasterKey.generate().key)
        #expect(other.accounts.usernameTag("my secret guess 123") != tag)
        #expect(fixture.accounts.usernameTag("Nobody") == fixture.accounts.usernameTag("nobody"))
        #expect(fixture.auditLog.events.allSatisfy { $0.sourceAddress == "203.0.113.9" && $0.requestID == "req-42" })
    }
}

/// A directory in which something else happens to the account right after a login has read it: what an
/// administrator disabling it (or changing its password) during the hash comparison looks like.
final class InterferingDirectory: AccountStore {
    let inner: MemoryDirectory
    let interference: @Sendable (MemoryDirectory, UUID) async throws -> Void

    init(_ inner: MemoryDirectory, interference: @escaping @Sendable (MemoryDirectory, UUID) async throws -> Void) {
        self.inner = inner
        self.interference = interference
    }

    func insert(_ account: StoredAccount, audit: [AuditEvent]) async throws { try await inner.insert(account, audit: audit) }
    func account(id: UUID) async throws -> StoredAccount? { await inner.account(id: id) }
    func account(usernameKey: String) async throws -> StoredAccount? {
        let found = await inner.account(usernameKey: usernameKey)
        if let found { try await interference(inner, found.id) }
        return found
    }
    func accounts() async throws -> [StoredAccount] { await inner.accounts() }
    func update(id: UUID, _ change: @escaping @Sendable (inout StoredAccount) throws -> [AuditEvent]) async throws -> StoredAccount { try await inner.update(id: id, change) }
    func delete(id: UUID, audit: [AuditEvent]) async throws { try await inner.delete(id: id, audit: audit) }
    func append(_ events: [AuditEvent]) async throws { try await inner.append(events) }
}

struct LoginRecheckTests {
    @Test(arguments: ["disabled", "password_changed"])
    func aLoginRechecksTheAccountAfterComparingTheHash(_ change: String) async throws {
        let fixture = try await AccessFixture.make()
        let password = "correct horse battery staple"
        _ = try await fixture.accounts.create(username: "ada", password: password, context: adminContext)
        let interfering = InterferingDirectory(fixture.directory) { directory, id in
            _ = try await directory.update(id: id) { account in
                if change == "disabled" { account.status = .disabled } else { account.passwordHash = "$scrypt$changed" }
                return []
            }
        }
        let accounts = AccountService(store: interfering, hasher: PasswordHasher(parameters: fastHashes), cipher: fixture.cipher, clock: fixture.clock)
        await #expect(throws: AccessError.invalidCredentials) {
            _ = try await accounts.authenticate(username: "ada", password: password, context: adminContext)
        }
        #expect(fixture.auditLog.events.last { $0.action == "login.failed" }?.details["reason"] == "changed_during_check")
    }
}
