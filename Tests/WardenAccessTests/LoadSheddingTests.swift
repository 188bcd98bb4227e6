import Foundation
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenTestSupport

/// Password checks refused because hashing is at capacity: not a failed login, the same for every name,
/// recorded as load shedding. Each test holds the hasher's one thread (and queue) with a gate, so the
/// pool is full for as long as the test says and no timing is involved.
struct LoadSheddingTests {
    let password = "correct horse battery staple"

    /// A fixture whose hasher has one thread and no queue, every refusal audited, and a low lock threshold.
    func fixture() async throws -> (AccessFixture, WorkerThreads) {
        let threads = WorkerThreads(count: 1, queueLimit: 0, name: "test-shedding")
        let fixture = try await AccessFixture.make(hasher: PasswordHasher(parameters: fastHashes, threads: threads)) {
            $0.loginPolicy = LoginPolicy(lockThreshold: 3, lockDuration: 600)
            $0.shedAuditSampling = 1
        }
        return (fixture, threads)
    }

    @Test func aFullPoolRefusesEveryNameAlikeAndCountsNothing() async throws {
        let (f, threads) = try await fixture()
        let account = try await f.accounts.create(username: "ada", password: password, context: adminContext)
        let before = f.auditLog.events.count
        let hold = try await ThreadsHold(threads, slots: 1)
        // The right password, a wrong one, an unknown name, an unusable name: one answer.
        for (name, guess) in [("ada", password), ("ada", "guessing wrongly"), ("nobody", password), ("no/such name", "x")] {
            await #expect(throws: WardenCryptoError.busy) { _ = try await f.accounts.checkPassword(username: name, password: guess, context: adminContext) }
            await #expect(throws: WardenCryptoError.busy) { _ = try await f.accounts.authenticate(username: name, password: guess, context: adminContext) }
        }
        await hold.release()
        let stored = try #require(await f.directory.account(id: account.id))
        #expect(stored.failedLogins == 0 && stored.lockedUntil == nil)
        let events = f.auditLog.events.dropFirst(before)
        #expect(!events.contains { $0.action == "login.failed" || $0.action == "account.locked" })
        #expect(events.count == 8 && events.allSatisfy { $0.action == "password_hashing.shed" && $0.outcome == .denied })
        // Nothing names the account or the name tried.
        #expect(events.allSatisfy { $0.subject == nil && $0.details == ["operation": "password_check", "sampled": "1/1"] })
        // With room again, the same wrong password does count: the test above would have seen it.
        await #expect(throws: AccessError.invalidCredentials) { _ = try await f.accounts.authenticate(username: "ada", password: "guessing wrongly", context: adminContext) }
        #expect(try #require(await f.directory.account(id: account.id)).failedLogins == 1)
    }

    /// 25 wrong guesses at once against a full pool: none counts, so no lock (the threshold is 3).
    @Test func aStormOfGuessesAgainstAFullPoolLocksNothing() async throws {
        let (f, threads) = try await fixture()
        let account = try await f.accounts.create(username: "ada", password: password, context: adminContext)
        let hold = try await ThreadsHold(threads, slots: 1)
        let answers = await withTaskGroup(of: String.self) { group in
            for index in 0..<25 {
                group.addTask {
                    do {
                        _ = try await f.accounts.authenticate(username: index.isMultiple(of: 2) ? "ada" : "nobody-\(index)", password: "guess \(index)", context: adminContext)
                        return "accepted"
                    } catch {
                        return String(describing: error)
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        await hold.release()
        #expect(answers == Array(repeating: WardenCryptoError.busy.description, count: 25))
        let stored = try #require(await f.directory.account(id: account.id))
        #expect(stored.failedLogins == 0 && stored.lockedUntil == nil && stored.status == .active)
        #expect(try await f.accounts.authenticate(username: "ada", password: password, context: adminContext).id == account.id)
    }

    /// A locked account's refusal runs the stand-in verification: with the pool full it is shed too, so
    /// a full pool does not tell a locked account from any other.
    @Test func aLockedAccountIsShedLikeAnyOther() async throws {
        let (f, threads) = try await fixture()
        _ = try await f.accounts.create(username: "ada", password: password, context: adminContext)
        for _ in 0..<3 {
            await #expect(throws: AccessError.invalidCredentials) { _ = try await f.accounts.authenticate(username: "ada", password: "guessing wrongly", context: adminContext) }
        }
        let lockedEvents = f.auditLog.events.count
        let hold = try await ThreadsHold(threads, slots: 1)
        await #expect(throws: WardenCryptoError.busy) { _ = try await f.accounts.authenticate(username: "ada", password: "guessing wrongly", context: adminContext) }
        await hold.release()
        #expect(f.auditLog.events.dropFirst(lockedEvents).map(\.action) == ["password_hashing.shed"])
    }

    @Test func creatingAnAccountOrSettingAPasswordIsShedWithoutAChange() async throws {
        let (f, threads) = try await fixture()
        let account = try await f.accounts.create(username: "ada", password: password, context: adminContext)
        let hold = try await ThreadsHold(threads, slots: 1)
        await #expect(throws: WardenCryptoError.busy) { _ = try await f.accounts.create(username: "bob", password: password, context: adminContext) }
        await #expect(throws: WardenCryptoError.busy) { try await f.accounts.setPassword(id: account.id, to: "a brand new passphrase", context: adminContext) }
        await hold.release()
        #expect(try await f.accounts.account(username: "bob") == nil)
        #expect(try await f.accounts.authenticate(username: "ada", password: password, context: adminContext).id == account.id)
        let operations = f.auditLog.events.filter { $0.action == "password_hashing.shed" }.compactMap { $0.details["operation"] }
        #expect(operations == ["account_create", "password_set"])
    }
}
