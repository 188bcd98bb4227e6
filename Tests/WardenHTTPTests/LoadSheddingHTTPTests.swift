import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenHTTP
import WardenTestSupport

/// A login storm meets a full hashing pool: 503 `busy` with `Retry-After`, identical for every name, and
/// no failed login anywhere (issue 11).
struct LoadSheddingHTTPTests {
    static let password = "correct horse battery staple"

    @Test func aFullPoolAnswers503BusyToEveryNameAlike() async throws {
        let threads = WorkerThreads(count: 1, queueLimit: 1, name: "test-http-shedding")
        let f = try await APIFixture.make(hasher: PasswordHasher(parameters: APIFixture.cheapPasswords, threads: threads)) {
            $0.registration = .open
            $0.authAddressLimit = RateLimit(limit: 1000, window: 60)
            $0.accountLoginLimit = RateLimit(limit: 1000, window: 60)
        }
        let ada = try await f.account("ada")
        try await f.app.test(.live) { client async throws in
            let token = try await client.login("ada")["access_token"] as! String
            let hold = try await ThreadsHold(threads, slots: 2)
            var answers: [String: (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any])] = [:]
            answers["right"] = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password])
            answers["wrong"] = try await client.json(.post, "/auth/login", ["username": "ada", "password": "guessing wrongly"])
            answers["unknown"] = try await client.json(.post, "/auth/login", ["username": "nobody", "password": "guessing wrongly"])
            answers["register"] = try await client.json(.post, "/auth/register", ["username": "bob", "password": "another long passphrase"])
            answers["password"] = try await client.json(
                .post, "/auth/password", ["current_password": Self.password, "new_password": "a brand new passphrase"], token: token)
            // Everything that does not hash still answers.
            #expect(try await client.json(.get, "/auth/sessions", token: token).status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            await hold.release()

            for (name, answer) in answers {
                #expect(answer.status == .serviceUnavailable, "\(name)")
                #expect(answer.headers[.retryAfter] == "1", "\(name)")
                let error = answer.body["error"] as? [String: Any]
                #expect(error?["code"] as? String == "busy", "\(name)")
                #expect(error?["message"] as? String == "the server is busy; try again shortly", "\(name)")
                #expect(answer.body["retry_after"] as? Int == 1, "\(name)")
            }
            // A known and an unknown name get the same bytes, but for the request id.
            func withoutID(_ body: [String: Any]) -> NSDictionary { NSDictionary(dictionary: body.filter { $0.key != "request_id" }) }
            #expect(withoutID(answers["right"]!.body).isEqual(withoutID(answers["unknown"]!.body)))
            #expect(answers["right"]!.headers.count == answers["unknown"]!.headers.count)
            #expect(metrics.contains("warden_password_hashing_shed_total{route=\"/auth/login\"} 3"))
            #expect(!metrics.contains("warden_logins_total{outcome=\"failure\"}"))

            // Nothing happened: no account, the password unchanged, no failed login or lock.
            #expect(try await f.accounts.account(username: "bob") == nil)
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .ok)
        }
        let stored = try #require(await f.directory.account(id: ada.id))
        #expect(stored.failedLogins == 0 && stored.lockedUntil == nil)
        #expect(!f.audit.events.contains { $0.action == "login.failed" })
        #expect(f.audit.events.filter { $0.action == "password_hashing.shed" }.count == 1, "sampled: one in 100")
    }

    /// 30 logins at once against 1 thread and a queue of 2, with the pool held: all 30 shed, none counted.
    @Test func aConcurrentStormIsShedWithoutLockingTheAccount() async throws {
        let threads = WorkerThreads(count: 1, queueLimit: 2, name: "test-http-storm")
        var configuration = AccountService.Configuration()
        configuration.loginPolicy = LoginPolicy(lockThreshold: 3, lockDuration: 600)
        let f = try await APIFixture.make(hasher: PasswordHasher(parameters: APIFixture.cheapPasswords, threads: threads), accountConfiguration: configuration) {
            $0.authAddressLimit = RateLimit(limit: 1000, window: 60)
            $0.accountLoginLimit = RateLimit(limit: 1000, window: 60)
        }
        let ada = try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let hold = try await ThreadsHold(threads, slots: 3)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await client.json(.post, "/auth/login", ["username": index.isMultiple(of: 3) ? "nobody" : "ada", "password": "guess \(index)"]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            await hold.release()
            #expect(statuses == Array(repeating: .serviceUnavailable, count: 30))
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .ok)
        }
        let stored = try #require(await f.directory.account(id: ada.id))
        #expect(stored.failedLogins == 0 && stored.lockedUntil == nil)
        #expect(!f.audit.events.contains { $0.action == "login.failed" || $0.action == "account.locked" })
    }
}
