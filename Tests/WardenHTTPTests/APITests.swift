import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardenAccess
import WardenCore
import WardenHTTP
import WardenMFA

/// Every route's cases, in process.
struct APITests {
    static let securityHeaders: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Strict-Transport-Security", "max-age=31536000"),
    ]

    func expectSecure(_ headers: HTTPFields, _ note: String) {
        for (name, value) in Self.securityHeaders { #expect(headers[HTTPField.Name(name)!] == value, "\(name) on \(note)") }
        #expect(headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'none'") == true, "CSP on \(note)")
        #expect(headers[HTTPField.Name("Permissions-Policy")!] != nil, "Permissions-Policy on \(note)")
        #expect(headers[HTTPField.Name("X-Request-ID")!]?.isEmpty == false, "request id on \(note)")
    }

    @Test func securityHeadersOnEveryResponseErrorsIncluded() async throws {
        let f = try await APIFixture.make()
        try await f.app.test(.router) { client async throws in
            let health = try await client.json(.get, "/health")
            #expect(health.status == .ok)
            #expect(health.body as? [String: String] == ["status": "ok"])
            #expect(health.headers[.contentType] == "application/json")
            expectSecure(health.headers, "200")
            let missing = try await client.json(.get, "/no/such/route")
            #expect(missing.status == .notFound)
            expectSecure(missing.headers, "404")
            let unauthorized = try await client.json(.get, "/auth/sessions")
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.headers[.wwwAuthenticate] == "Bearer")
            #expect(unauthorized.headers[.cacheControl] == "no-store")
            expectSecure(unauthorized.headers, "401")
            let bad = try await client.json(.post, "/auth/login", ["username": 5])
            #expect(bad.status == .badRequest)
            expectSecure(bad.headers, "400")
            #expect((bad.body["error"] as? [String: Any])?["code"] as? String == "invalid_request")
        }
    }

    @Test func noHSTSWithoutTLS() async throws {
        let f = try await APIFixture.make { $0.tls = false }
        try await f.app.test(.router) { client async throws in
            #expect(try await client.json(.get, "/health").headers[HTTPField.Name("Strict-Transport-Security")!] == nil)
        }
    }

    @Test func registrationPolicies() async throws {
        let admin = try await APIFixture.make()
        try await admin.app.test(.router) { client async throws in
            #expect(try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple"]).status == .unauthorized)
            try await admin.account("root", roles: ["account_admin"])
            let token = try await client.login("root")["access_token"] as! String
            let created = try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple"], token: token)
            #expect(created.status == .created && created.body["username"] as? String == "eve")
        }
        let open = try await APIFixture.make { $0.registration = .open }
        try await open.app.test(.router) { client async throws in
            #expect(try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple"]).status == .created)
            #expect(try await client.json(.post, "/auth/register", ["username": "EVE", "password": "correct horse battery staple"]).status == .conflict)
            let weak = try await client.json(.post, "/auth/register", ["username": "bob", "password": "password"])
            #expect(weak.status == .badRequest)
            #expect(!"\(weak.body)".contains("\"password\""))
        }
        let invite = try await APIFixture.make {
            $0.registration = .invite
            $0.inviteCodes = ["let-me-in-7f3a"]
        }
        try await invite.app.test(.router) { client async throws in
            #expect(try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple"]).status == .forbidden)
            #expect(try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple", "invite_code": "wrong"]).status == .forbidden)
            #expect(try await client.json(.post, "/auth/register", ["username": "eve", "password": "correct horse battery staple", "invite_code": "let-me-in-7f3a"]).status == .created)
        }
    }

    @Test func unknownUserWrongPasswordAndDisabledAccountLookTheSame() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        let disabled = try await f.account("bob")
        _ = try await f.accounts.setStatus(id: disabled.id, to: .disabled, context: AuditContext(actor: "test"))
        try await f.app.test(.router) { client async throws in
            var bodies: [String] = []
            for (user, password) in [("nobody", "correct horse battery staple"), ("ada", "wrong password entirely"), ("bob", "correct horse battery staple")] {
                let response = try await client.json(.post, "/auth/login", ["username": user, "password": password])
                #expect(response.status == .unauthorized)
                var body = response.body
                body["request_id"] = nil
                bodies.append(String(decoding: try JSONSerialization.data(withJSONObject: body, options: .sortedKeys), as: UTF8.self))
            }
            #expect(Set(bodies).count == 1, "\(bodies)")
        }
    }

    @Test func loginSessionsRefreshAndLogout() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.account("mallory")
        try await f.app.test(.router) { client async throws in
            let first = try await client.login("ada")
            #expect(first["token_type"] as? String == "Bearer" && first["expires_in"] as? Int == 900)
            let second = try await client.login("ada")
            let access = first["access_token"] as! String
            let listed = try await client.json(.get, "/auth/sessions", token: access)
            let sessions = try #require(listed.body["sessions"] as? [[String: Any]])
            #expect(sessions.count == 2)
            #expect(sessions.filter { $0["current"] as? Bool == true }.count == 1)
            // Another account's session id is "not found", and stays alive.
            let mallory = try await client.login("mallory")["access_token"] as! String
            #expect(try await client.json(.delete, "/auth/sessions/\(second["session_id"] as! String)", token: mallory).status == .notFound)
            #expect(try await client.json(.delete, "/auth/sessions/not-a-session", token: mallory).status == .notFound)
            #expect(try await client.json(.get, "/auth/sessions", token: second["access_token"] as? String).status == .ok)
            // Own: revoked at once.
            #expect(try await client.json(.delete, "/auth/sessions/\(second["session_id"] as! String)", token: access).status == .noContent)
            #expect(try await client.json(.get, "/auth/sessions", token: second["access_token"] as? String).status == .unauthorized)
            // Refresh rotates; the old refresh token is then reuse, which ends the session.
            let refreshed = try await client.json(.post, "/auth/refresh", ["refresh_token": first["refresh_token"] as! String])
            #expect(refreshed.status == .ok)
            let reused = try await client.json(.post, "/auth/refresh", ["refresh_token": first["refresh_token"] as! String])
            #expect(reused.status == .unauthorized)
            #expect((reused.body["error"] as? [String: Any])?["code"] as? String == "refresh_token_reused")
            #expect(try await client.json(.get, "/auth/sessions", token: refreshed.body["access_token"] as? String).status == .unauthorized)
            // Logout and logout-all.
            let third = try await client.login("ada")["access_token"] as! String
            let fourth = try await client.login("ada")["access_token"] as! String
            #expect(try await client.json(.post, "/auth/logout", token: third).status == .noContent)
            #expect(try await client.json(.get, "/auth/sessions", token: third).status == .unauthorized)
            let all = try await client.json(.post, "/auth/logout-all", token: fourth)
            #expect(all.status == .ok && all.body["revoked"] as? Int == 1)
            #expect(try await client.json(.get, "/auth/sessions", token: fourth).status == .unauthorized)
        }
    }

    @Test func mfaSetupChallengeAndSingleCallLogin() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let token = try await client.login("ada")["access_token"] as! String
            let setup = try await client.json(.post, "/auth/mfa/setup", ["method": "totp", "name": "phone", "current_password": "correct horse battery staple"], token: token)
            #expect(setup.status == .created)
            #expect((setup.body["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/Warden:ada?secret=") == true)
            let png = try #require(Base64.decode(setup.body["qr_png"] as? String ?? ""))
            #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let totp = try TOTP(secret: try #require(Base32.decode(setup.body["secret"] as? String ?? "")))
            #expect(try await client.json(.post, "/auth/mfa/verify", ["factor_id": setup.body["factor_id"] as! String, "code": "12345"], token: token).status == .unauthorized)
            let confirmed = try await client.json(.post, "/auth/mfa/verify", ["factor_id": setup.body["factor_id"] as! String, "code": totp.code(at: Date())], token: token)
            #expect(confirmed.status == .ok && confirmed.body["methods"] as? [String] == ["totp"])

            // Password alone now gives a challenge, not tokens.
            let challenge = try await client.login("ada")
            #expect(challenge["mfa_required"] as? Bool == true && challenge["access_token"] == nil)
            #expect(challenge["methods"] as? [String] == ["totp"])
            // The challenge is no access token.
            #expect(try await client.json(.get, "/auth/sessions", token: challenge["challenge"] as? String).status == .unauthorized)
            // The code was used to confirm, so the same step cannot complete the challenge; wait for the next step's code.
            let next = totp.code(at: Date().addingTimeInterval(30))
            let done = try await client.json(.post, "/auth/mfa/verify", ["challenge": challenge["challenge"] as! String, "method": "totp", "code": next])
            #expect(done.status == .ok && done.body["authentication_level"] as? String == "mfa", "\(done.body)")
            let again = try await client.json(.post, "/auth/mfa/verify", ["challenge": challenge["challenge"] as! String, "method": "totp", "code": next])
            #expect(again.status == .unauthorized)

            // An MFA-level session may create backup codes; the count is visible, never the codes again.
            let mfaToken = done.body["access_token"] as! String
            let codes = try await client.json(.post, "/auth/mfa/backup-codes", token: mfaToken)
            let list = try #require(codes.body["codes"] as? [String])
            #expect(list.count == 10)
            // The password-only session may not.
            #expect(try await client.json(.post, "/auth/mfa/backup-codes", token: token).status == .forbidden)
            // The original system's single-call form.
            let single = try await client.json(.post, "/auth/login", ["username": "ada", "password": "correct horse battery staple", "mfa_token": list[0], "mfa_method": "backup_code"])
            #expect(single.status == .ok && single.body["authentication_level"] as? String == "mfa")
            let remaining = try await client.json(.get, "/auth/mfa/backup-codes", token: mfaToken)
            #expect(remaining.body["remaining"] as? Int == 9 && remaining.body["codes"] == nil)
            // Disabling needs the MFA-level session.
            #expect(try await client.json(.delete, "/auth/mfa/disable", token: token).status == .forbidden)
            #expect(try await client.json(.delete, "/auth/mfa/disable", token: mfaToken).status == .noContent)
            #expect(try await client.login("ada")["access_token"] != nil)
        }
    }

    @Test func bodyAndJSONLimits() async throws {
        let f = try await APIFixture.make { $0.maxBodyBytes = 1024 }
        try await f.app.test(.router) { client async throws in
            let big = ByteBuffer(bytes: Array(repeating: UInt8(ascii: " "), count: 4096))
            let tooLarge = try await client.execute(uri: "/auth/login", method: .post, headers: [.contentType: "application/json"], body: big) { $0 }
            #expect(tooLarge.status == .contentTooLarge)
            var deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            deep = "{\"a\":" + deep + "}"
            let nested = try await client.execute(uri: "/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: deep)) { $0 }
            #expect(nested.status == .badRequest)
            for body in ["[]", "\"text\"", "{", "null", ""] {
                let response = try await client.execute(uri: "/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { $0 }
                #expect(response.status == .badRequest, "\(body)")
            }
        }
    }

    @Test func fieldEncryptionNeedsItsPermissions() async throws {
        let f = try await APIFixture.make()
        try await f.account("plain")
        try await f.account("app", roles: ["crypto_client"])
        try await f.app.test(.router) { client async throws in
            let plain = try await client.login("plain")["access_token"] as! String
            let app = try await client.login("app")["access_token"] as! String
            let secret = Base64.encode(Array("ada@example.com".utf8))
            #expect(try await client.json(.post, "/v1/crypto/encrypt", ["context": "users/email/42", "plaintext": secret], token: plain).status == .forbidden)
            #expect(try await client.json(.post, "/v1/crypto/encrypt", ["context": "users/email/42", "plaintext": secret]).status == .unauthorized)
            let sealed = try await client.json(.post, "/v1/crypto/encrypt", ["context": "users/email/42", "plaintext": secret], token: app)
            #expect(sealed.status == .ok)
            let ciphertext = try #require(sealed.body["ciphertext"] as? String)
            #expect(ciphertext.hasPrefix("wd1:1:"))
            let opened = try await client.json(.post, "/v1/crypto/decrypt", ["context": "users/email/42", "ciphertext": ciphertext], token: app)
            #expect(opened.body["plaintext"] as? String == secret)
            // Another context: one generic failure.
            let moved = try await client.json(.post, "/v1/crypto/decrypt", ["context": "users/email/43", "ciphertext": ciphertext], token: app)
            #expect(moved.status == .badRequest && (moved.body["error"] as? [String: Any])?["code"] as? String == "decryption_failed")
            // A batch: each item on its own.
            let batch = try await client.json(
                .post, "/v1/crypto/decrypt",
                [
                    "items": [
                        ["context": "users/email/42", "ciphertext": ciphertext], ["context": "users/email/43", "ciphertext": ciphertext],
                    ]
                ], token: app)
            let items = try #require(batch.body["items"] as? [[String: Any]])
            #expect(items.count == 2 && items[0]["plaintext"] as? String == secret && items[1]["error"] != nil)
            #expect(try await client.json(.get, "/v1/keys", token: app).status == .ok)
            #expect(try await client.json(.post, "/v1/keys/rotate", token: app).status == .forbidden)
            #expect(try await client.json(.post, "/v1/crypto/encrypt", ["context": "", "plaintext": secret], token: app).status == .badRequest)
            #expect(try await client.json(.post, "/v1/crypto/encrypt", ["context": "x", "plaintext": "%%%"], token: app).status == .badRequest)
        }
    }

    @Test func keyRotationAndRewrap() async throws {
        let f = try await APIFixture.make()
        try await f.account("app", roles: ["crypto_client"])
        try await f.account("keys", roles: ["key_admin"])
        try await f.app.test(.router) { client async throws in
            let app = try await client.login("app")["access_token"] as! String
            let keys = try await client.login("keys")["access_token"] as! String
            let old = try await client.json(.post, "/v1/crypto/encrypt", ["context": "c/1", "plaintext": "aGk="], token: app).body["ciphertext"] as! String
            let rotated = try await client.json(.post, "/v1/keys/rotate", token: keys)
            #expect(rotated.status == .ok && rotated.body["primary_version"] as? Int == 2)
            let opened = try await client.json(.post, "/v1/crypto/decrypt", ["context": "c/1", "ciphertext": old], token: app)
            #expect(opened.body["key_version"] as? Int == 1 && opened.body["needs_rewrap"] as? Bool == true)
            let rewrapped = try await client.json(.post, "/v1/crypto/rewrap", ["context": "c/1", "ciphertext": old], token: app)
            #expect(rewrapped.body["key_version"] as? Int == 2)
            #expect(rewrapped.body["plaintext"] == nil)
            #expect((rewrapped.body["ciphertext"] as? String)?.hasPrefix("wd1:2:") == true)
            let status = try await client.json(.get, "/v1/keys", token: keys)
            #expect((status.body["versions"] as? [[String: Any]])?.map { $0["state"] as? String } == ["active", "primary"])
        }
    }

    @Test func adminCreatesAccountsAndUnknownSMSIsRefused() async throws {
        let f = try await APIFixture.make()
        try await f.account("admin", roles: ["account_admin"])
        try await f.app.test(.router) { client async throws in
            let admin = try await client.login("admin")["access_token"] as! String
            let created = try await client.json(.post, "/admin/accounts", ["username": "bob", "password": "correct horse battery staple", "email": "bob@example.com"], token: admin)
            #expect(created.status == .created && created.body["username"] as? String == "bob")
            let shown = try await client.json(.get, "/admin/accounts/\(created.body["id"] as! String)", token: admin)
            #expect(shown.body["email"] as? String == "bob@example.com")
            // No SMS sender is configured on this server: the method is refused, nothing is enrolled.
            let bob = try await client.login("bob")["access_token"] as! String
            let sms = try await client.json(.post, "/auth/mfa/setup", ["method": "sms", "destination": "+14155550123", "current_password": "correct horse battery staple"], token: bob)
            #expect(sms.status == .badRequest)
            #expect(try await client.json(.post, "/auth/mfa/send", ["challenge": "x", "method": "sms"]).status == .unauthorized)
        }
    }

    @Test func administrationIsRBACProtected() async throws {
        let f = try await APIFixture.make()
        let target = try await f.account("ada")
        try await f.account("admin", roles: ["security_admin"])
        try await f.account("auditor", roles: ["auditor"])
        try await f.app.test(.router) { client async throws in
            let admin = try await client.login("admin")["access_token"] as! String
            let auditor = try await client.login("auditor")["access_token"] as! String
            let adaToken = try await client.login("ada")["access_token"] as! String
            let id = target.id.uuidString.lowercased()
            #expect(try await client.json(.post, "/admin/accounts/\(id)/disable", token: auditor).status == .forbidden)
            #expect(try await client.json(.get, "/admin/audit?limit=5", token: auditor).status == .ok)
            let sessions = try await client.json(.get, "/admin/accounts/\(id)/sessions", token: admin)
            #expect(sessions.status == .ok && sessions.body["active_sessions"] as? Int == 1)
            let disabled = try await client.json(.post, "/admin/accounts/\(id)/disable", token: admin)
            #expect(disabled.status == .ok && disabled.body["status"] as? String == "disabled" && disabled.body["sessions_revoked"] as? Int == 1)
            #expect(try await client.json(.get, "/auth/sessions", token: adaToken).status == .unauthorized)
            // Unlocking lifts locks only; enabling brings the account back (without its old sessions).
            #expect(try await client.json(.post, "/admin/accounts/\(id)/unlock", token: admin).body["status"] as? String == "disabled")
            #expect(try await client.json(.post, "/admin/accounts/\(id)/enable", token: admin).body["status"] as? String == "active")
            #expect(try await client.json(.post, "/admin/accounts/\(id)/roles", ["role": "auditor"], token: admin).body["roles"] as? [String] == ["auditor"])
            // Effective at the next check: ada can read the audit log now, and not after the revocation.
            let ada = try await client.login("ada")["access_token"] as! String
            #expect(try await client.json(.get, "/admin/audit", token: ada).status == .ok)
            #expect(try await client.json(.delete, "/admin/accounts/\(id)/roles/auditor", token: admin).status == .noContent)
            #expect(try await client.json(.get, "/admin/audit", token: ada).status == .forbidden)
            #expect(try await client.json(.get, "/admin/accounts/\(UUID().uuidString)/sessions", token: admin).status == .notFound)
            #expect(try await client.json(.get, "/admin/accounts/not-a-uuid/sessions", token: admin).status == .notFound)
            let events = try await client.json(.get, "/admin/audit?limit=1000", token: admin).body["events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "account.disabled" && ($0["request_id"] as? String)?.isEmpty == false })
            // No secrets in the log.
            #expect(!"\(events)".contains("correct horse battery staple"))
        }
    }

    @Test func rateLimitsAnswer429WithRetryAfter() async throws {
        let f = try await APIFixture.make { $0.authAddressLimit = RateLimit(limit: 3, window: 60) }
        try await f.app.test(.router) { client async throws in
            for _ in 0..<3 { #expect(try await client.json(.post, "/auth/login", ["username": "x", "password": "y"]).status == .unauthorized) }
            let limited = try await client.json(.post, "/auth/login", ["username": "x", "password": "y"])
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
        let perAccount = try await APIFixture.make { $0.accountLoginLimit = RateLimit(limit: 2, window: 60) }
        try await perAccount.app.test(.router) { client async throws in
            for _ in 0..<2 { _ = try await client.json(.post, "/auth/login", ["username": "Ada", "password": "y"]) }
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": "y"]).status == .tooManyRequests)
            #expect(try await client.json(.post, "/auth/login", ["username": "bob", "password": "y"]).status == .unauthorized)
        }
    }

    @Test func aSessionStoreOutageIs503NeverSuccess() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let token = try await client.login("ada")["access_token"] as! String
            f.sessionStore.down.set(true)
            let listed = try await client.json(.get, "/auth/sessions", token: token)
            #expect(listed.status == .serviceUnavailable)
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": "correct horse battery staple"]).status == .serviceUnavailable)
            f.sessionStore.down.set(false)
            #expect(try await client.json(.get, "/auth/sessions", token: token).status == .ok)
        }
    }

    @Test func corsOnlyForConfiguredOrigins() async throws {
        let f = try await APIFixture.make { $0.corsOrigins = ["https://app.example.com"] }
        try await f.app.test(.router) { client async throws in
            let allowed = try await client.json(.get, "/health", headers: [.origin: "https://app.example.com"])
            #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://app.example.com")
            #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] == "true")
            let other = try await client.json(.get, "/health", headers: [.origin: "https://evil.example"])
            #expect(other.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            let preflight = try await client.json(.options, "/auth/login", headers: [.origin: "https://app.example.com", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent && preflight.headers[HTTPField.Name("Access-Control-Allow-Methods")!] != nil)
        }
    }

    @Test func statusHealthJWKSAndOpenAPI() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            #expect(try await client.json(.get, "/health/ready").body["status"] as? String == "ready")
            let jwks = try await client.json(.get, "/.well-known/jwks.json")
            #expect((jwks.body["keys"] as? [[String: Any]])?.first?["crv"] as? String == "Ed25519")
            let anonymous = try await client.json(.get, "/security/status")
            let checks = try #require(anonymous.body["checks"] as? [[String: Any]])
            let rating = try #require(anonymous.body["rating"] as? [String: Any])
            #expect(rating["total"] as? Int == checks.count)
            #expect(rating["passed"] as? Int == checks.filter { $0["passed"] as? Bool == true }.count)
            #expect((anonymous.body["encryption"] as? [String: Any])?["algorithm"] as? String == "AES-256-GCM")
            #expect(anonymous.body["caller_mfa"] == nil)
            let token = try await client.login("ada")["access_token"] as! String
            let mine = try await client.json(.get, "/security/status", token: token)
            #expect((mine.body["caller_mfa"] as? [String: Any])?["enabled"] as? Bool == false)
            #expect((mine.body["checks"] as? [[String: Any]])?.contains { $0["name"] as? String == "caller_mfa" && $0["passed"] as? Bool == false } == true)
            let openapi = try await client.json(.get, "/openapi.json")
            #expect(openapi.body["openapi"] as? String == "3.1.0")
            // The served document is the one in the repository (scripts/openapi.py writes both).
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.json")
            let stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? NSDictionary)
            #expect(NSDictionary(dictionary: openapi.body).isEqual(stored))
            // Every route the router has is documented.
            let paths = try #require(openapi.body["paths"] as? [String: Any])
            #expect(paths.count == 42)
            // Metrics only for the configured addresses (none here: the in-process client has no address).
            #expect(try await client.json(.get, "/metrics").status == .notFound)
        }
    }
}
