import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import WardenAccess
import WardenAudit
import WardenAuth
import WardenCore
import WardenCrypto
import WardenMFA
import WardenSessions

@testable import WardenHTTP

/// The account rules of the use-case layer, attacked over HTTP (issue: account security as one layer).
/// Each test failed on the code before `WardenAuth` existed.
struct AccountSecurityTests {
    static let password = "correct horse battery staple"

    /// Item 1: `roles:manage` is not a way to more power.
    @Test func roleGrantsCannotEscalate() async throws {
        let f = try await APIFixture.make()
        let admin = try await f.account("acct", roles: ["account_admin"])
        let bob = try await f.account("bob")
        let root = try await f.account("root", roles: ["super_admin"])
        try await f.app.test(.router) { client async throws in
            let token = try await client.login("acct")["access_token"] as! String
            for role in ["super_admin", "crypto_client", "key_admin", "security_admin"] {
                let toSelf = try await client.json(.post, "/admin/accounts/\(admin.id.lowercasedText)/roles", ["role": role], token: token)
                #expect(toSelf.status == .forbidden, "self grant of \(role)")
                let toOther = try await client.json(.post, "/admin/accounts/\(bob.id.lowercasedText)/roles", ["role": role], token: token)
                #expect(toOther.status == .forbidden, "grant of \(role) to another")
            }
            // An unknown role is a bad request (the account exists).
            #expect(try await client.json(.post, "/admin/accounts/\(bob.id.lowercasedText)/roles", ["role": "wizard"], token: token).status == .badRequest)
            // Within its own permissions, to someone else: allowed.
            #expect(try await client.json(.post, "/admin/accounts/\(bob.id.lowercasedText)/roles", ["role": "account_admin"], token: token).status == .ok)
            // Even an allowed role is refused to oneself.
            #expect(try await client.json(.post, "/admin/accounts/\(admin.id.lowercasedText)/roles", ["role": "user"], token: token).status == .forbidden)
            // Cannot take away (or act on) what it does not hold.
            #expect(try await client.json(.delete, "/admin/accounts/\(root.id.lowercasedText)/roles/super_admin", token: token).status == .forbidden)
            #expect(try await client.json(.post, "/admin/accounts/\(root.id.lowercasedText)/disable", token: token).status == .forbidden)
            #expect(try await client.json(.post, "/admin/accounts/\(root.id.lowercasedText)/password", ["new_password": "an attacker's new passphrase"], token: token).status == .forbidden)
            // The last super_admin keeps the role.
            let rootToken = try await client.login("root")["access_token"] as! String
            #expect(try await client.json(.delete, "/admin/accounts/\(root.id.lowercasedText)/roles/super_admin", token: rootToken).status == .conflict)
        }
        #expect(try await f.access.grants(of: admin).map(\.role) == ["account_admin"])
        #expect(try await f.access.grants(of: bob).map(\.role) == ["account_admin"])
        let refusals = f.audit.latest(limit: 10_000).filter { $0.event.action == "role.grant_refused" }
        #expect(refusals.count == 9)
        #expect(refusals.allSatisfy { $0.event.outcome == .denied && $0.event.actor == admin.subject })
        #expect(f.audit.latest(limit: 10_000).map { $0 }.contains { $0.event.action == "role.revoke_refused" && $0.event.details["reason"] == "last_super_admin" })
    }

    /// Item 2: aliases of a limited route are refused, never a way around its limit.
    @Test func pathAliasesDoNotBypassTheAuthLimit() async throws {
        let f = try await APIFixture.make { $0.authAddressLimit = RateLimit(limit: 3, window: 60) }
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            for alias in ["/auth/login/", "//auth/login", "/auth//login", "/auth/refresh/", "//auth/register", "/auth/mfa//verify"] {
                let response = try await client.json(.post, alias, ["username": "ada", "password": "wrong password here"])
                #expect(response.status == .notFound, "\(alias)")
            }
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 { statuses.append(try await client.json(.post, "/auth/login", ["username": "ada", "password": "wrong password here"]).status) }
            #expect(statuses.prefix(3).allSatisfy { $0 == .unauthorized })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
            // Aliases stay refused once limited; the real route stays limited.
            #expect(try await client.json(.post, "/auth/login/", ["username": "ada", "password": Self.password]).status != .ok)
        }
    }

    /// Item 3: a password lock stops password logins only; it ends by itself; a trusted device passes.
    @Test func passwordLockoutIsNotADenialOfService() async throws {
        let f = try await APIFixture.make {
            $0.accountLoginLimit = RateLimit(limit: 1000, window: 60)
            $0.authAddressLimit = RateLimit(limit: 1000, window: 60)
        }
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let first = try await client.login("ada")
            let access = first["access_token"] as! String
            let deviceToken = try #require(first["device_token"] as? String)
            for _ in 0..<12 { _ = try await client.json(.post, "/auth/login", ["username": "ada", "password": "a wrong guess here"]) }
            // Locked for strangers, even with the right password…
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .unauthorized)
            // …but the live session keeps working,
            #expect(try await client.json(.get, "/auth/sessions", token: access).status == .ok)
            // A forged device token does not help,
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password, "device_token": String(repeating: "0", count: 32) + ".abc"]).status == .unauthorized)
            // but the owner's device (its token from an earlier login) still logs in, which ends the lock.
            let trusted = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password, "device_token": deviceToken])
            #expect(trusted.status == .ok)
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .ok)
        }
        // The lock ends by itself, and guesses during a lock do not extend it.
        let policy = LoginPolicy()
        let now = Date()
        #expect(policy.lock(failures: 10, lockedUntil: now.addingTimeInterval(60), now: now) == "locked")
        #expect(policy.lock(failures: 10, lockedUntil: now.addingTimeInterval(-1), now: now) == nil)
        #expect(policy.lockStart(failures: 11, now: now) == nil)
        #expect(policy.lockStart(failures: 20, now: now) == now.addingTimeInterval(30 * 60))
        #expect(policy.lock(failures: 100, lockedUntil: nil, now: now) == "stopped")
    }

    /// Item 4: a stolen access token alone cannot enrol, change or remove a factor.
    @Test func mfaChangesNeedAFreshProof() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let stolen = try await client.login("ada")["access_token"] as! String
            let bare = try await client.json(.post, "/auth/mfa/setup", ["method": "totp"], token: stolen)
            #expect(bare.status == .forbidden)
            #expect((bare.body["error"] as? [String: Any])?["code"] as? String == "reauthentication_required")
            #expect(try await client.json(.post, "/auth/mfa/setup", ["method": "totp", "current_password": "a wrong guess here"], token: stolen).status == .forbidden)
            let setup = try await client.json(.post, "/auth/mfa/setup", ["method": "totp", "current_password": Self.password], token: stolen)
            #expect(setup.status == .created)
            let secret = try #require(Base32.decode(setup.body["secret"] as! String))
            let code = try TOTP(secret: secret).code(at: Date())
            #expect(try await client.json(.post, "/auth/mfa/verify", ["factor_id": setup.body["factor_id"] as! String, "code": code], token: stolen).status == .ok)
            // With MFA on, the password alone is not enough to remove it or renew backup codes.
            #expect(try await client.json(.delete, "/auth/mfa/disable", ["current_password": Self.password], token: stolen).status == .forbidden)
            #expect(try await client.json(.post, "/auth/mfa/backup-codes", ["current_password": Self.password], token: stolen).status == .forbidden)
            #expect(try await client.json(.post, "/auth/password", ["current_password": "a wrong guess here", "new_password": "a brand new passphrase"], token: stolen).status == .forbidden)
        }
    }

    /// Item 6: the crypto API cannot open Warden's own sealed values, whatever context it names.
    @Test func cryptoAPICannotOpenInternalValues() async throws {
        let f = try await APIFixture.make()
        try await f.account("svc", roles: ["crypto_client"])
        let ada = try await f.accounts.create(username: "ada", password: Self.password, email: "ada@example.com", phone: "+15555550100", context: AuditContext(actor: "test"))
        let cipher = f.api.services.cipher
        let internalValues: [(String, String)] = [
            ("accounts/\(ada.id.lowercasedText)/email", "ada@example.com"), ("mfa/\(ada.id.lowercasedText)/x", "secret"), ("signing-keys/k1", "key bytes"),
        ]
        try await f.app.test(.router) { client async throws in
            let token = try await client.login("svc")["access_token"] as! String
            for (context, value) in internalValues {
                let sealed = try await cipher.seal(Array(value.utf8), context: context).text
                // The cipher itself opens it: the value is real.
                #expect(String(decoding: try cipher.open(sealed, context: context).plaintext, as: UTF8.self) == value)
                let decrypt = try await client.json(.post, "/v1/crypto/decrypt", ["ciphertext": sealed, "context": context], token: token)
                #expect(decrypt.status == .badRequest, "\(context)")
                #expect(!"\(decrypt.body)".contains(Base64.encode(Array(value.utf8))))
                #expect(try await client.json(.post, "/v1/crypto/rewrap", ["ciphertext": sealed, "context": context], token: token).status == .badRequest)
                // And what the API seals under that name is not an internal value.
                let made = try await client.json(.post, "/v1/crypto/encrypt", ["plaintext": Base64.encode([1, 2, 3]), "context": context], token: token)
                #expect(made.status == .ok)
                #expect(throws: (any Error).self) { _ = try cipher.open(made.body["ciphertext"] as! String, context: context) }
            }
        }
        #expect(f.audit.latest(limit: 10_000).map { $0 }.contains { $0.event.action == "crypto.decrypted" && $0.event.details["opened"] == "0" })
    }

    /// Item 7: password change and reset, disable and refresh end what they must.
    @Test func passwordChangeResetAndDisableEndSessions() async throws {
        let f = try await APIFixture.make()
        try await f.account("admin", roles: ["account_admin"])
        let ada = try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let admin = try await client.login("admin")["access_token"] as! String
            let one = try await client.login("ada")
            let two = try await client.login("ada")
            // Own change: current password needed; the other session ends, this one stays.
            let changed = try await client.json(.post, "/auth/password", ["current_password": Self.password, "new_password": "another fine passphrase"], token: one["access_token"] as? String)
            #expect(changed.status == .ok && changed.body["sessions_revoked"] as? Int == 1)
            #expect(try await client.json(.get, "/auth/sessions", token: one["access_token"] as? String).status == .ok)
            #expect(try await client.json(.get, "/auth/sessions", token: two["access_token"] as? String).status == .unauthorized)
            // Admin reset: every session ends.
            let reset = try await client.json(.post, "/admin/accounts/\(ada.id.lowercasedText)/password", ["new_password": "the third passphrase here"], token: admin)
            #expect(reset.status == .ok)
            #expect(try await client.json(.get, "/auth/sessions", token: one["access_token"] as? String).status == .unauthorized)
            // Disable: sessions end, refresh refused; enabling does not bring them back.
            let three = try await client.login("ada", "the third passphrase here")
            #expect(try await client.json(.post, "/admin/accounts/\(ada.id.lowercasedText)/disable", token: admin).status == .ok)
            #expect(try await client.json(.post, "/auth/refresh", ["refresh_token": three["refresh_token"] as! String]).status == .unauthorized)
            #expect(try await client.json(.post, "/admin/accounts/\(ada.id.lowercasedText)/enable", token: admin).status == .ok)
            #expect(try await client.json(.get, "/auth/sessions", token: three["access_token"] as? String).status == .unauthorized)
            #expect(try await client.json(.post, "/auth/refresh", ["refresh_token": three["refresh_token"] as! String]).status == .unauthorized)
        }
    }

    /// Item 11: bodies that must be refused.
    @Test func inputTheAPIRefuses() async throws {
        let f = try await APIFixture.make { $0.registration = .open }
        try await f.account("admin")
        try await f.app.test(.router) { client async throws in
            // A JSON body as text/plain (a cross-site form can send it without a preflight): 415.
            let plain = try await client.execute(
                uri: "/auth/login", method: .post, headers: [.contentType: "text/plain"],
                body: ByteBuffer(string: #"{"username":"admin","password":"correct horse battery staple"}"#))
            #expect(plain.status == .unsupportedMediaType)
            // Duplicate keys, also through escapes: 400.
            for body in [
                #"{"username":"nobody","username":"admin","password":"correct horse battery staple"}"#,
                #"{"username":"nobody","\u0075sername":"admin","password":"correct horse battery staple"}"#,
            ] {
                let duplicate = try await client.execute(uri: "/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
                #expect(duplicate.status == .badRequest)
            }
            // Lengths count Unicode scalars: one letter and 60,000 combining marks is not a short name.
            let heavy = "a" + String(repeating: "\u{0301}", count: 60_000)
            #expect(try await client.json(.post, "/auth/register", ["username": heavy, "password": Self.password]).status == .badRequest)
            // Lower-case bearer scheme works; query parameters are checked.
            let token = try await client.login("admin")["access_token"] as! String
            #expect(try await client.json(.get, "/auth/sessions", headers: [.authorization: "bearer \(token)"]).status == .ok)
            try await f.access.grant("auditor", to: try #require(try await f.accounts.account(username: "admin")), context: AuditContext(actor: "test"))
            for bad in ["abc", "1e20", "-1", "0", "99999999999"] {
                #expect(try await client.json(.get, "/admin/audit?limit=\(bad)", token: token).status == .badRequest, "limit=\(bad)")
            }
            #expect(try await client.json(.get, "/admin/audit?limit=5", token: token).status == .ok)
        }
    }

    /// Item 12: HEAD works on GET routes, other methods get 405 with Allow; Host is required once.
    @Test func methodsAndHost() async throws {
        let f = try await APIFixture.make()
        try await f.app.test(.router) { client async throws in
            #expect(try await client.execute(uri: "/health", method: .head).status == .ok)
            let put = try await client.execute(uri: "/auth/login", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "POST")
            // A literal route wins over a parameter route of the same shape, as in the router:
            // `/auth/passkeys/login` takes POST only, although `/auth/passkeys/:id` takes DELETE.
            let delete = try await client.execute(uri: "/auth/passkeys/login", method: .delete)
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "POST")
            #expect(try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("Host")!: "evil.example"]).status == .badRequest)
        }
    }

    /// Item 9: reads of personal data, refused tokens (sampled) and decryption failures (rate-limited) are audited.
    @Test func auditRecordsReadsRefusalsAndFailures() async throws {
        let f = try await APIFixture.make { $0.addressLimit = RateLimit(limit: 10_000, window: 60) }
        try await f.account("admin", roles: ["account_admin"])
        let ada = try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let token = try await client.login("admin")["access_token"] as! String
            #expect(try await client.json(.get, "/admin/accounts/\(ada.id.lowercasedText)", token: token).status == .ok)
            for index in 0..<150 {
                #expect(try await client.json(.get, "/auth/sessions", token: "eyJhbGciOiJFZERTQSJ9.e30.forged\(index)").status == .unauthorized)
            }
        }
        let events = f.audit.latest(limit: 10_000).map(\.event)
        #expect(events.contains { $0.action == "account.read" && $0.subject == ada.subject && $0.actor.hasPrefix("account:") })
        let refused = events.filter { $0.action == "token.refused" }
        #expect((1...2).contains(refused.count), "\(refused.count)")
        #expect(!"\(refused)".contains("forged"))

        let recorder = DecryptionFailureRecorder(perMinute: 3)
        recorder.attach(f.audit)
        for index in 0..<10 { recorder.observe(DecryptionFailure(format: "envelope", reason: .authenticationFailed, context: "caller:c\(index)")) }
        var recorded: [AuditEvent] = []
        // The recorder appends from tasks of its own; give a loaded machine up to 60 s.
        for _ in 0..<6_000 {
            recorded = f.audit.latest(limit: 10_000).map(\.event).filter { $0.action == "crypto.decryption_failed" }
            if recorded.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(recorded.count == 3)
        #expect(recorded.allSatisfy { $0.details["reason"] == "authentication_failed" && $0.details["context"]?.hasPrefix("caller:c") == true })
    }

    /// Item 10: rate limits count an IPv6 client by its /64 (one host has a whole /64 to rotate through),
    /// and trusted proxies may be IPv6 CIDR blocks.
    @Test func addressesCountByTheirNetwork() {
        #expect(SourceKey.of("2001:db8:1:2:aaaa::1") == SourceKey.of("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(SourceKey.of("2001:db8:1:2::1") == "2001:0db8:0001:0002::/64")
        #expect(SourceKey.of("2001:db8:1:3::1") != SourceKey.of("2001:db8:1:2::1"))
        #expect(SourceKey.of("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(SourceKey.of("192.0.2.7") == "192.0.2.7")
        #expect(SourceKey.of(nil) == "unknown")
        #expect(SourceKey.matches("fd00::/8", "fd12:3456::1"))
        #expect(!SourceKey.matches("fd00::/8", "fe80::1"))
        #expect(SourceKey.matches("2001:db8::/32", "2001:db8:ffff::1") && !SourceKey.matches("2001:db8::/33", "2001:db8:ffff::1"))
        #expect(SourceKey.matches("10.0.0.0/8", "10.1.2.3") && !SourceKey.matches("10.0.0.0/8", "11.0.0.1"))
        #expect(SourceKey.matches("10.0.0.0/8", "::ffff:10.1.2.3"))
        #expect(SourceKey.matches("::1", "::1") && !SourceKey.matches("::1", "::2"))
        #expect(!SourceKey.matches("10.0.0.0/99", "10.0.0.1") && !SourceKey.matches("not-an-address", "10.0.0.1"))
    }

    @Test func anIPv6ClientRotatingAddressesInItsSlash64IsStillLimited() async throws {
        let f = try await APIFixture.make {
            $0.trustedProxies = ["::1", "127.0.0.1"]
            $0.authAddressLimit = RateLimit(limit: 3, window: 60)
        }
        try await f.app.test(.live) { client async throws in
            var statuses: [HTTPResponse.Status] = []
            for host in 1...5 {
                statuses.append(
                    try await client.json(
                        .post, "/auth/login", ["username": "nobody", "password": "a wrong guess here"],
                        headers: [HTTPField.Name("X-Forwarded-For")!: "2001:db8:1:2::\(host)"]
                    ).status)
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
            // Another /64 is another client.
            #expect(
                try await client.json(
                    .post, "/auth/login", ["username": "nobody", "password": "a wrong guess here"],
                    headers: [HTTPField.Name("X-Forwarded-For")!: "2001:db8:1:3::1"]
                ).status == .unauthorized)
        }
    }

    /// Item 10: `/health/ready` is public; a flood of probes is answered from a 1 s cache.
    @Test func readinessIsCachedForASecond() async throws {
        let probes = ProbeCounter()
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let f = try await APIFixture.make(databaseProbes: probes, clock: clock)
        try await f.app.test(.router) { client async throws in
            for _ in 0..<20 { #expect(try await client.json(.get, "/health/ready").status == .ok) }
            #expect(probes.count == 1)
            clock.advance(by: 0.9)
            #expect(try await client.json(.get, "/health/ready").status == .ok)
            #expect(probes.count == 1)
            clock.advance(by: 0.2)
            #expect(try await client.json(.get, "/health/ready").status == .ok)
            #expect(probes.count == 2)
        }
    }

    /// A burst of probes when the cached checks expire makes one probe, not one per request, however
    /// slow the database answers.
    @Test func anExpiredReadinessIsProbedOnceByABurst() async throws {
        let probes = ProbeCounter(delay: .milliseconds(200))
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let f = try await APIFixture.make(databaseProbes: probes, clock: clock)
        let api = f.api
        #expect(await api.readiness()["database"] == "up")
        clock.advance(by: 2)
        let answers = await withTaskGroup(of: [String: String].self) { group in
            for _ in 0..<25 { group.addTask { await api.readiness() } }
            return await group.reduce(into: [[String: String]]()) { $0.append($1) }
        }
        #expect(answers.count == 25 && answers.allSatisfy { $0["database"] == "up" })
        #expect(probes.count == 2)
    }

    /// Item 5 over HTTP: another account's DELETE of a session, live or revoked, changes nothing; the
    /// ledger row keeps its owner.
    @Test func anotherAccountsDeleteLeavesTheLedgerAlone() async throws {
        let f = try await APIFixture.make()
        let ada = try await f.account("ada")
        try await f.account("mallory")
        try await f.app.test(.router) { client async throws in
            let first = try await client.login("ada")
            let second = try await client.login("ada")
            let mallory = try await client.login("mallory")["access_token"] as! String
            let revoked = first["session_id"] as! String
            #expect(try await client.json(.delete, "/auth/sessions/\(revoked)", token: second["access_token"] as? String).status == .noContent)
            #expect(try await client.json(.delete, "/auth/sessions/\(revoked)", token: mallory).status == .notFound)
            #expect(try await client.json(.delete, "/auth/sessions/\(second["session_id"] as! String)", token: mallory).status == .notFound)
            #expect(try await client.json(.get, "/auth/sessions", token: second["access_token"] as? String).status == .ok)
        }
        let ledger = await f.ledger.activeRevocations(now: Date())
        #expect(ledger.sessions.count == 1)
        #expect(ledger.sessions.allSatisfy { $0.accountID == ada.id })
    }
}

final class ProbeCounter: Sendable {
    private let value = Mutex(0)
    private let delay: Duration?
    var count: Int { value.withLock { $0 } }

    /// - Parameter delay: How long each probe takes (a slow database).
    init(delay: Duration? = nil) { self.delay = delay }

    func hit() { value.withLock { $0 += 1 } }

    func probe() async {
        hit()
        if let delay { try? await Task.sleep(for: delay) }
    }
}
