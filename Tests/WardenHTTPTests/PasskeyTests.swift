import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationEssentialsCompat
import Synchronization
import Testing
import WardenAccess
import WardenAudit
import WardenAuth
import WardenCore
import WardenHTTP

/// Passkeys through the JSON routes, with a software authenticator that can be made to lie: registration,
/// listing, renaming, removal, passwordless sign-in, a passkey completing a password login, and every
/// refusal a hostile or broken client could provoke.
@Suite struct PasskeyTests {
    static let password = "correct horse battery staple"

    static func fixture() async throws -> APIFixture {
        try await APIFixture.make {
            $0.authAddressLimit = RateLimit(limit: 10_000, window: 60)
            $0.accountLoginLimit = RateLimit(limit: 10_000, window: 60)
        }
    }

    // MARK: Registration and management

    @Test func registerListRenameAndRemove() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.account("bob")
        try await f.app.test(.router) { client async throws in
            let ada = try #require(try await client.login("ada")["access_token"] as? String)
            let bob = try #require(try await client.login("bob")["access_token"] as? String)
            let authenticator = SoftAuthenticator()

            // Proof of identity is required: none, or a wrong password, registers nothing.
            for proof in [[:], ["current_password": "not the password at all"]] as [[String: String]] {
                let (ceremony, options) = try await client.registrationOptions(ada)
                var body: [String: Any] = ["ceremony": ceremony, "credential": try authenticator.register(options), "name": "Laptop"]
                for (key, value) in proof { body[key] = value }
                let refused = try await client.json(.post, "/auth/passkeys/register", body, token: ada)
                #expect((400..<500).contains(refused.status.code) && refused.body["credential_id"] == nil, "\(proof): \(refused.status) \(refused.body)")
            }
            #expect(try await client.passkeys(ada).isEmpty)

            let (ceremony, options) = try await client.registrationOptions(ada)
            let credential = try authenticator.register(options)
            let registered = try await client.json(.post, "/auth/passkeys/register", ["ceremony": ceremony, "credential": credential, "name": "Laptop", "current_password": Self.password], token: ada)
            #expect(registered.status == .created, "\(registered.body)")
            #expect(registered.body["credential_id"] as? String == authenticator.credentialIDText)
            #expect(registered.body["name"] as? String == "Laptop" && registered.body["flagged"] as? Bool == false && registered.body["algorithm"] as? Int == -7)
            let id = try #require(registered.body["id"] as? String)
            // The ceremony is used up.
            let replayed = try await client.json(.post, "/auth/passkeys/register", ["ceremony": ceremony, "credential": credential, "name": "Again", "current_password": Self.password], token: ada)
            #expect((400..<500).contains(replayed.status.code), "\(replayed.status)")
            #expect(try await client.passkeys(ada).map { $0["id"] as? String } == [id])
            #expect(try await client.passkeys(bob).isEmpty)

            // Renaming: the owner may; another account gets "not found" and changes nothing.
            #expect(try await client.json(.post, "/auth/passkeys/\(id)", ["name": "Bob's now"], token: bob).status == .notFound)
            #expect(try await client.json(.post, "/auth/passkeys/\(id)", ["name": "Work laptop"], token: ada).status == .noContent)
            #expect(try await client.passkeys(ada).first?["name"] as? String == "Work laptop")

            // Removal: another account cannot; a password-only session no longer suffices once the account
            // has a passkey (it is a second factor now); a session signed in with the passkey may.
            #expect(try await client.json(.delete, "/auth/passkeys/\(id)", ["current_password": Self.password], token: bob).status == .notFound)
            let weak = try await client.json(.delete, "/auth/passkeys/\(id)", ["current_password": Self.password], token: ada)
            #expect((400..<500).contains(weak.status.code), "\(weak.status)")
            #expect(try await client.passkeys(ada).count == 1)
            let signedIn = try await client.passkeySignIn(authenticator)
            #expect(signedIn.status == .ok, "\(signedIn.body)")
            let strong = try #require(signedIn.body["access_token"] as? String)
            #expect(try await client.json(.delete, "/auth/passkeys/\(id)", token: strong).status == .noContent)
            #expect(try await client.passkeys(strong).isEmpty)
            // A removed passkey signs in no more.
            #expect(try await client.passkeySignIn(authenticator).status == .unauthorized)
            let events = f.audit.latest(limit: 1_000).map(\.event.action)
            #expect(events.contains("mfa.passkey_registered") && events.contains("mfa.passkey_renamed") && events.contains("mfa.passkey_removed"))
        }
    }

    /// A registration that lies about where it was made, or was made without the user present, registers
    /// nothing; the true one then does.
    @Test func registrationRefusesEachLie() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let token = try #require(try await client.login("ada")["access_token"] as? String)
            let authenticator = SoftAuthenticator()
            let lies: [(String, ([String: Any]) throws -> [String: Any])] = [
                ("wrong origin", { try authenticator.register($0, origin: "https://evil.example") }),
                ("wrong rp id hash", { try authenticator.register($0, rpID: "evil.example") }),
                ("user not present", { try authenticator.register($0, flags: SoftAuthenticator.uv) }),
                (
                    "another challenge",
                    { options in
                        var other = options
                        other["challenge"] = SoftAuthenticator.b64((0..<32).map { _ in UInt8.random(in: 0...255) })
                        return try authenticator.register(other)
                    }
                ),
            ]
            for (name, lie) in lies {
                let (ceremony, options) = try await client.registrationOptions(token)
                let refused = try await client.json(.post, "/auth/passkeys/register", ["ceremony": ceremony, "credential": try lie(options), "current_password": Self.password], token: token)
                #expect(refused.status == .badRequest || refused.status == .unauthorized, "\(name): \(refused.status) \(refused.body)")
                #expect(refused.body["credential_id"] == nil, "\(name)")
                #expect(try await client.passkeys(token).isEmpty, "\(name)")
            }
            #expect(f.audit.latest(limit: 1_000).filter { $0.event.action == "mfa.passkey_refused" }.count >= lies.count)
            let registered = try await client.registerPasskey(authenticator, for: "ada")
            #expect(registered["credential_id"] as? String == authenticator.credentialIDText)
        }
    }

    @Test func passwordlessSignInMakesAPasskeySession() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let authenticator = SoftAuthenticator()
            try await client.registerPasskey(authenticator, for: "ada")
            let signedIn = try await client.passkeySignIn(authenticator)
            #expect(signedIn.status == .ok, "\(signedIn.body)")
            #expect(signedIn.body["authentication_level"] as? String == "passkey" && signedIn.body["mfa_verified"] as? Bool == true)
            let token = try #require(signedIn.body["access_token"] as? String)
            let sessions = try await client.json(.get, "/auth/sessions", token: token)
            #expect(sessions.status == .ok)
            let current = (sessions.body["sessions"] as? [[String: Any]])?.first { $0["current"] as? Bool == true }
            #expect(current?["authentication_level"] as? String == "passkey")
            // The counter the authenticator sent is kept.
            #expect(try await client.passkeys(token).first?["sign_count"] as? Int == 1)
            #expect(try await client.passkeySignIn(authenticator).status == .ok)
            #expect(try await client.passkeys(token).first?["sign_count"] as? Int == 2)
        }
    }

    // MARK: Refusals

    /// Each lie is refused with the one answer every refusal gets; a true assertion then still signs in
    /// (so the refusals were the lies', not the fixture's).
    @Test func passwordlessSignInRefusesEachLie() async throws {
        let f = try await Self.fixture()
        let adaAccount = try await f.account("ada")
        try await f.account("bob")
        try await f.app.test(.router) { client async throws in
            let ada = SoftAuthenticator()
            let bob = SoftAuthenticator()
            try await client.registerPasskey(ada, for: "ada")
            try await client.registerPasskey(bob, for: "bob")
            let stranger = SoftAuthenticator()
            stranger.userHandle.withLock { $0 = ada.userHandle.withLock { $0 } }
            let bobsHandle = bob.userHandle.withLock { $0 }
            #expect(bobsHandle.count == 16 && bobsHandle != ada.userHandle.withLock { $0 })

            let lies: [(String, ([String: Any]) throws -> [String: Any])] = [
                ("wrong origin", { try ada.assert($0, origin: "https://evil.example") }),
                ("origin on another port", { try ada.assert($0, origin: "http://localhost:8080") }),
                ("wrong rp id hash", { try ada.assert($0, rpID: "evil.example") }),
                ("wrong challenge", { try ada.assert($0, challenge: (0..<32).map { _ in UInt8.random(in: 0...255) }) }),
                ("user not verified", { try ada.assert($0, flags: SoftAuthenticator.up) }),
                ("user not present", { try ada.assert($0, flags: SoftAuthenticator.uv) }),
                ("unknown credential", { try stranger.assert($0) }),
                ("another account's user handle", { try ada.assert($0, userHandle: bobsHandle) }),
                ("no account's user handle", { try ada.assert($0, userHandle: (0..<16).map { _ in UInt8.random(in: 0...255) }) }),
                ("a user handle of the wrong length", { try ada.assert($0, userHandle: [1, 2, 3]) }),
                ("not a credential", { _ in ["id": "x", "type": "public-key", "response": ["clientDataJSON": "e30"]] }),
            ]
            for (name, lie) in lies {
                let refused = try await client.passkeySignIn(answer: lie)
                #expect(refused.status == .unauthorized, "\(name): \(refused.status) \(refused.body)")
                #expect((refused.body["error"] as? [String: Any])?["code"] as? String == "invalid_credentials", "\(name): \(refused.body)")
                #expect(refused.body["access_token"] == nil, "\(name)")
            }
            #expect(try await client.passkeySignIn(ada).status == .ok)

            // A ceremony is used once: the same token with a fresh, valid assertion is refused.
            let (ceremony, options) = try await client.signInOptions()
            #expect(try await client.json(.post, "/auth/passkeys/login", ["ceremony": ceremony, "credential": try ada.assert(options)]).status == .ok)
            let replayed = try await client.json(.post, "/auth/passkeys/login", ["ceremony": ceremony, "credential": try ada.assert(options)])
            #expect(replayed.status == .unauthorized && replayed.body["access_token"] == nil)

            // A disabled account's passkey signs in no more.
            _ = try await f.accounts.setStatus(id: adaAccount.id, to: .disabled, context: AuditContext(actor: "test"))
            let disabled = try await client.passkeySignIn(ada)
            #expect(disabled.status == .unauthorized && (disabled.body["error"] as? [String: Any])?["code"] as? String == "invalid_credentials")
            #expect(f.audit.latest(limit: 1_000).contains { $0.event.action == "login.passkey" && $0.event.details["reason"] == "account_disabled" })
            // Bob's is untouched by all of it.
            #expect(try await client.passkeySignIn(bob).status == .ok)
        }
    }

    /// A counter that goes backwards marks the passkey as possibly cloned: refused, flagged, audited, and
    /// refused from then on even with a counter that moves forward again.
    @Test func aCounterRegressionFlagsThePasskey() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let authenticator = SoftAuthenticator()
            try await client.registerPasskey(authenticator, for: "ada")
            let first = try await client.passkeySignIn { try authenticator.assert($0, signCount: 5) }
            #expect(first.status == .ok)
            let token = try #require(first.body["access_token"] as? String)
            #expect(try await client.passkeys(token).first?["flagged"] as? Bool == false)

            let regressed = try await client.passkeySignIn { try authenticator.assert($0, signCount: 3) }
            #expect(regressed.status == .unauthorized && regressed.body["access_token"] == nil)
            let listed = try #require(try await client.passkeys(token).first)
            #expect(listed["flagged"] as? Bool == true && listed["flagged_at"] is String && listed["sign_count"] as? Int == 5)
            let event = try #require(f.audit.latest(limit: 1_000).map(\.event).first { $0.action == "mfa.passkey_counter_regressed" })
            #expect(event.details["stored"] == "5" && event.details["presented"] == "3" && event.details["passkey"] == listed["id"] as? String)

            for count in [6, 10, 1_000] as [UInt32] {
                let later = try await client.passkeySignIn { try authenticator.assert($0, signCount: count) }
                #expect(later.status == .unauthorized, "counter \(count)")
            }

            // The blocked passkey was the account's only factor: MFA stays on, and the password alone is
            // refused (no downgrade) until an administrator resets two-step verification.
            let password = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password])
            #expect(password.status == .forbidden && password.body["access_token"] == nil && password.body["challenge"] == nil, "\(password.status) \(password.body)")
            #expect(f.audit.latest(limit: 1_000).map(\.event).contains { $0.action == "login.refused" && $0.details["reason"] == "no_usable_factor" })
            let ada = try await f.api.services.security.target(username: "ada")
            try await f.api.services.security.resetMFA(of: ada, .operator(actor: "test"))
            let reset = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password])
            #expect(reset.status == .ok && reset.body["access_token"] is String && reset.body["authentication_level"] as? String == "password")
        }
    }

    // MARK: Second factor

    @Test func aPasskeyCompletesAPasswordLogin() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let authenticator = SoftAuthenticator()
            try await client.registerPasskey(authenticator, for: "ada")
            let login = try await client.login("ada")
            #expect(login["mfa_required"] as? Bool == true && login["access_token"] == nil)
            #expect((login["methods"] as? [String])?.contains("passkey") == true, "\(login)")
            let challenge = try #require(login["challenge"] as? String)
            let options = try await client.json(.post, "/auth/mfa/passkey/options", ["challenge": challenge])
            #expect(options.status == .ok, "\(options.body)")
            let publicKey = try #require(options.body["publicKey"] as? [String: Any])
            let allowed = (publicKey["allowCredentials"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(allowed == [authenticator.credentialIDText])

            // Refused: another origin, or an assertion over another challenge.
            let foreign = try await client.json(.post, "/auth/mfa/passkey", ["challenge": challenge, "credential": try authenticator.assert(publicKey, origin: "https://evil.example")])
            #expect(foreign.status == .unauthorized && foreign.body["access_token"] == nil)

            // A second factor needs presence, not verification.
            let fresh = try await client.login("ada")
            let freshChallenge = try #require(fresh["challenge"] as? String)
            let otherChallenge = try await client.json(.post, "/auth/mfa/passkey", ["challenge": freshChallenge, "credential": try authenticator.assert(publicKey, flags: SoftAuthenticator.up)])
            #expect(otherChallenge.status == .unauthorized, "an assertion over the first challenge does not complete the second")
            let freshLogin = try await client.login("ada")
            let lastChallenge = try #require(freshLogin["challenge"] as? String)
            let lastOptions = try #require(try await client.json(.post, "/auth/mfa/passkey/options", ["challenge": lastChallenge]).body["publicKey"] as? [String: Any])
            let done = try await client.json(.post, "/auth/mfa/passkey", ["challenge": lastChallenge, "credential": try authenticator.assert(lastOptions, flags: SoftAuthenticator.up)])
            #expect(done.status == .ok, "\(done.body)")
            #expect(done.body["access_token"] is String && done.body["mfa_verified"] as? Bool == true)
            // The challenge is used up.
            let again = try await client.json(.post, "/auth/mfa/passkey", ["challenge": lastChallenge, "credential": try authenticator.assert(lastOptions, flags: SoftAuthenticator.up)])
            #expect(again.status == .unauthorized && again.body["access_token"] == nil)
        }
    }

    // MARK: Exactly once

    /// 25 concurrent sign-ins with one ceremony and one valid assertion: exactly one session.
    @Test func aCeremonySignsInExactlyOnceUnderConcurrency() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let authenticator = SoftAuthenticator()
            try await client.registerPasskey(authenticator, for: "ada")
            let (ceremony, options) = try await client.signInOptions()
            let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["ceremony": ceremony, "credential": try authenticator.assert(options)] as [String: Any]))
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<25 {
                    group.addTask {
                        try await client.execute(uri: "/auth/passkeys/login", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any]
                            return (response.status, object?["access_token"] as? String)
                        }
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String?)]()) { $0.append($1) }
            }
            #expect(answers.count == 25)
            #expect(answers.filter { $0.0 == .ok }.count == 1, "\(answers.map(\.0))")
            #expect(answers.filter { $0.0 != .ok }.allSatisfy { $0.0 == .unauthorized && $0.1 == nil }, "\(answers.map(\.0))")
            let token = try #require(answers.compactMap(\.1).first)
            // One session from the passkey, beside the password session that registered it.
            let sessions = try await client.json(.get, "/auth/sessions", token: token)
            #expect(sessions.body["total_sessions"] as? Int == 2, "\(sessions.body)")
            let levels = (sessions.body["sessions"] as? [[String: Any]])?.compactMap { $0["authentication_level"] as? String }.sorted()
            #expect(levels == ["passkey", "password"])
            // The losers were stopped by the used-up ceremony, before their (equal) counter could mark the
            // passkey as cloned: it still signs in.
            let listed = try #require(try await client.passkeys(token).first)
            #expect(listed["flagged"] as? Bool == false && listed["sign_count"] as? Int == 1, "\(listed)")
            #expect(try await client.passkeySignIn(authenticator).status == .ok)
        }
    }
}

extension TestClientProtocol {
    /// `/auth/passkeys/register/options`: the ceremony token and the `publicKey` options.
    func registrationOptions(_ token: String) async throws -> (String, [String: Any]) {
        let answer = try await json(.post, "/auth/passkeys/register/options", token: token)
        #expect(answer.status == .ok, "\(answer.body)")
        return (try #require(answer.body["ceremony"] as? String), try #require(answer.body["publicKey"] as? [String: Any]))
    }

    /// Signs in with a password and registers `authenticator`'s passkey (proof: the password); returns the
    /// passkey as listed.
    @discardableResult
    func registerPasskey(_ authenticator: SoftAuthenticator, for username: String, password: String = "correct horse battery staple") async throws -> [String: Any] {
        let token = try #require(try await login(username, password)["access_token"] as? String)
        let (ceremony, options) = try await registrationOptions(token)
        let answer = try await json(
            .post, "/auth/passkeys/register", ["ceremony": ceremony, "credential": try authenticator.register(options), "name": "Laptop", "current_password": password], token: token)
        #expect(answer.status == .created, "\(answer.body)")
        return answer.body
    }

    /// The caller's passkeys.
    func passkeys(_ token: String) async throws -> [[String: Any]] {
        let answer = try await json(.get, "/auth/passkeys", token: token)
        #expect(answer.status == .ok, "\(answer.body)")
        return try #require(answer.body["passkeys"] as? [[String: Any]])
    }

    /// `/auth/passkeys/login/options`: the ceremony token and the `publicKey` options.
    func signInOptions() async throws -> (String, [String: Any]) {
        let answer = try await json(.post, "/auth/passkeys/login/options")
        #expect(answer.status == .ok, "\(answer.body)")
        return (try #require(answer.body["ceremony"] as? String), try #require(answer.body["publicKey"] as? [String: Any]))
    }

    /// A passwordless sign-in with a fresh ceremony, the credential made by `answer` from its options.
    func passkeySignIn(answer: ([String: Any]) throws -> [String: Any]) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any]) {
        let (ceremony, options) = try await signInOptions()
        return try await json(.post, "/auth/passkeys/login", ["ceremony": ceremony, "credential": try answer(options)])
    }

    /// A passwordless sign-in with a true assertion from `authenticator`.
    func passkeySignIn(_ authenticator: SoftAuthenticator) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any]) {
        try await passkeySignIn { try authenticator.assert($0) }
    }
}
