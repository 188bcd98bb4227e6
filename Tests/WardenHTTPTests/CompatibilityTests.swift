import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenHTTP
import WardenMFA

/// The original system's shapes (docs/migration-api.md): its field names beside Warden's in both modes,
/// its conflicting forms only with `WARDEN_API_COMPATIBILITY=original`.
struct CompatibilityTests {
    static let password = "correct horse battery staple"

    @Test func originalFieldNamesBesideWardensByDefault() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let first = try await client.login("ada")
            #expect(first["mfa_verified"] as? Bool == false && first["authentication_level"] as? String == "password")
            let second = try await client.login("ada")
            let token = first["access_token"] as! String
            let listing = try await client.json(.get, "/auth/sessions", token: token)
            let sessions = try #require(listing.body["sessions"] as? [[String: Any]])
            #expect(listing.body["total_sessions"] as? Int == 2 && sessions.count == 2)
            for session in sessions {
                #expect(session["session_id"] as? String == session["id"] as? String)
                #expect(session["is_current"] as? Bool == session["current"] as? Bool)
                let info = try #require(session["device_info"] as? [String: Any])
                let device = try #require(session["device"] as? [String: Any])
                #expect(info["device_fingerprint"] as? String == device["fingerprint"] as? String)
                #expect(info["ip_address"] as? String == device["address"] as? String)
                #expect(info["user_agent"] as? String == device["user_agent"] as? String)
                #expect(session["token_count"] == nil)
            }
            #expect(sessions.first { $0["is_current"] as? Bool == true }?["session_id"] as? String == first["session_id"] as? String)

            // Warden's error body, logout and revocation stay as documented.
            let missing = try await client.json(.delete, "/auth/sessions/nope", token: token)
            #expect(missing.status == .notFound && (missing.body["error"] as? [String: Any])?["code"] as? String == "not_found" && missing.body["code"] == nil)
            #expect(try await client.json(.delete, "/auth/sessions/\(second["session_id"] as! String)", token: token).status == .noContent)
            let third = try await client.login("ada")
            let all = try await client.json(.post, "/auth/logout-all", token: third["access_token"] as? String)
            #expect(all.status == .ok && all.body["revoked"] as? Int == 2 && all.body["sessions_revoked"] as? Int == 2)
            #expect(all.body["message"] as? String == "Logged out 2 sessions")
            let fourth = try await client.login("ada")
            #expect(try await client.json(.post, "/auth/logout", token: fourth["access_token"] as? String).status == .noContent)

            let refreshed = try await client.json(.post, "/auth/refresh", ["refresh_token": fourth["refresh_token"] as! String])
            #expect(refreshed.status == .unauthorized)
        }
    }

    @Test func originalFormsBehindTheSwitch() async throws {
        let f = try await APIFixture.make { $0.apiCompatibility = .original }
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            // Errors: `{"error": "<message>"}`, the code beside it; the same message for an unknown name.
            let wrong = try await client.json(.post, "/auth/login", ["username": "ada", "password": "wrong password here"])
            let unknown = try await client.json(.post, "/auth/login", ["username": "zed", "password": "wrong password here"])
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.body["error"] as? String == "invalid username or password" && wrong.body["code"] as? String == "invalid_credentials")
            #expect(unknown.body["error"] as? String == wrong.body["error"] as? String)
            #expect(wrong.body["request_id"] as? String != nil)
            let anonymous = try await client.json(.get, "/auth/sessions")
            #expect(anonymous.status == .unauthorized && anonymous.body["error"] as? String == "a valid access token is required")
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")

            // Revoking a session and logging out answer the original's bodies.
            let first = try await client.login("ada")
            let second = try await client.login("ada")
            let token = first["access_token"] as! String
            let id = second["session_id"] as! String
            let revoked = try await client.json(.delete, "/auth/sessions/\(id)", token: token)
            #expect(revoked.status == .ok && revoked.body["message"] as? String == "Session revoked successfully" && revoked.body["session_id"] as? String == id)
            let notFound = try await client.json(.delete, "/auth/sessions/\(id)", token: token)
            #expect(notFound.status == .notFound && notFound.body["error"] as? String == "no such resource")
            let out = try await client.json(.post, "/auth/logout", token: token)
            #expect(out.status == .ok && out.body["message"] as? String == "Logged out successfully" && out.body["session_revoked"] as? Bool == true)

            // MFA through the original's shapes: setup (the password is still required), verify with
            // `{method, token}`, then a login without a code is the original's 403.
            let mfaUser = try await client.login("ada")["access_token"] as! String
            let unproven = try await client.json(.post, "/auth/mfa/setup", ["method": "totp"], token: mfaUser)
            #expect(unproven.status == .forbidden && unproven.body["code"] as? String == "reauthentication_required")
            let none = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": "123456"], token: mfaUser)
            #expect(none.status == .badRequest, "\(none.body)")
            let setup = try await client.json(.post, "/auth/mfa/setup", ["method": "totp", "current_password": Self.password], token: mfaUser)
            #expect(setup.status == .created && setup.body["method"] as? String == "totp" && setup.body["setup_complete"] as? Bool == false)
            #expect(setup.body["qr_code"] as? String == setup.body["qr_png"] as? String && setup.body["backup_codes"] == nil)
            let totp = try TOTP(secret: try #require(Base32.decode(setup.body["secret"] as? String ?? "")))
            let code = totp.code(at: Date())
            let both = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": code, "code": code == "000000" ? "111111" : "000000"], token: mfaUser)
            #expect(both.status == .badRequest)
            let verified = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": code], token: mfaUser)
            #expect(verified.status == .ok && verified.body["verified"] as? Bool == true && verified.body["method"] as? String == "totp", "\(verified.body)")
            #expect(verified.body["confirmed"] as? Bool == true && verified.body["factor_id"] as? String == setup.body["factor_id"] as? String)

            let required = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password])
            #expect(required.status == .forbidden)
            #expect(required.body["error"] as? String == "MFA verification required" && required.body["mfa_required"] as? Bool == true)
            #expect(required.body["available_methods"] as? [String] == ["totp"] && required.body["access_token"] == nil)
            // The challenge rides along: a Warden-aware client can still complete it.
            let done = try await client.json(
                .post, "/auth/mfa/verify",
                [
                    "challenge": required.body["challenge"] as! String, "method": "totp", "code": totp.code(at: Date().addingTimeInterval(30)),
                ])
            #expect(done.status == .ok && done.body["mfa_verified"] as? Bool == true, "\(done.body)")

            // The original's POST disable with `{method, password}`: the password alone no longer suffices
            // with MFA on; the session that just completed MFA does.
            let weak = try await client.json(.post, "/auth/mfa/disable", ["method": "totp", "password": Self.password], token: mfaUser)
            #expect(weak.status == .forbidden && weak.body["code"] as? String == "reauthentication_required")
            let disabled = try await client.json(.post, "/auth/mfa/disable", ["method": "totp", "password": Self.password], token: done.body["access_token"] as? String)
            #expect(disabled.status == .ok && disabled.body["message"] as? String == "MFA disabled")
            #expect(try await client.login("ada")["mfa_verified"] as? Bool == false)
        }
    }

    /// The original's `{method, token}` confirms only the caller's own pending enrolment: another account's
    /// token with a valid code for it confirms nothing, an anonymous call is refused, and bad methods or
    /// oversized codes are refused before any lookup.
    @Test func theOriginalsVerifyFormConfirmsOnlyTheCallersOwnEnrolment() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.account("bob")
        try await f.app.test(.router) { client async throws in
            let ada = try await client.login("ada")["access_token"] as! String
            let bob = try await client.login("bob")["access_token"] as! String
            let setup = try await client.json(.post, "/auth/mfa/setup", ["method": "totp", "current_password": Self.password], token: ada)
            #expect(setup.status == .created)
            let totp = try TOTP(secret: try #require(Base32.decode(setup.body["secret"] as? String ?? "")))
            let code = totp.code(at: Date())
            let anonymous = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": code])
            #expect(anonymous.status == .unauthorized)
            let stranger = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": code], token: bob)
            #expect(stranger.status == .badRequest, "\(stranger.body)")
            let bogus = try await client.json(.post, "/auth/mfa/verify", ["method": "carrier-pigeon", "token": code], token: ada)
            #expect(bogus.status == .badRequest)
            let oversized = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": String(repeating: "1", count: 100_000)], token: ada)
            #expect(oversized.status == .badRequest || oversized.status == .contentTooLarge)
            let wrongType = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": 123456], token: ada)
            #expect(wrongType.status == .badRequest)
            // Bob's attempt changed nothing: Ada's enrolment is still pending, and her own call confirms it.
            let mine = try await client.json(.post, "/auth/mfa/verify", ["method": "totp", "token": code], token: ada)
            #expect(mine.status == .ok && mine.body["factor_id"] as? String == setup.body["factor_id"] as? String, "\(mine.body)")
            #expect(try await client.login("bob")["mfa_verified"] as? Bool == false)
        }
    }

    @Test func securityStatusCarriesTheOriginalsNames() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let anonymous = try await client.json(.get, "/security/status")
            let rating = try #require(anonymous.body["rating"] as? [String: Any])
            #expect(anonymous.body["security_rating"] as? String == rating["value"] as? String)
            let encryption = try #require(anonymous.body["encryption"] as? [String: Any])
            #expect(encryption["current_version"] as? Int == encryption["primary_version"] as? Int && encryption["rotation_needed"] as? Bool == false)
            #expect(anonymous.body["tls_enabled"] as? Bool == true && anonymous.body["cors_enabled"] as? Bool == false)
            let sessions = try #require(anonymous.body["session_management"] as? [String: Any])
            #expect(sessions["status"] as? String == "healthy" && sessions["store"] as? String == "database" && sessions["redis_health"] as? String == "not_configured")
            let mfa = try #require(anonymous.body["mfa"] as? [String: Any])
            #expect(mfa["available_methods"] as? [String] == ["totp", "backup_code"] && mfa["user_status"] as? String == "Not authenticated")
            let token = try await client.login("ada")["access_token"] as! String
            let mine = try await client.json(.get, "/security/status", token: token)
            let status = try #require((mine.body["mfa"] as? [String: Any])?["user_status"] as? [String: Any])
            #expect(status["totp_enabled"] as? Bool == false && status["backup_codes_count"] as? Int == 0 && status["methods_available"] as? [String] == [])
        }
    }

    @Test func originalMethodNamesAccepted() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            // `backup_codes` is read as `backup_code` (here the account has no MFA, so the code is not needed).
            let login = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password, "mfa_token": "x", "mfa_method": "backup_codes"])
            #expect(login.status == .ok)
            let bad = try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password, "mfa_token": "x", "mfa_method": "carrier_pigeon"])
            #expect(bad.status == .badRequest)
        }
    }
}
