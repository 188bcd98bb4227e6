import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenHTTP

/// The web console through the router, as a browser without JavaScript would use it: pages, cookies,
/// form tokens and origins, refusals as pages.
@Suite struct ConsoleTests {
    static let password = "correct horse battery staple"

    /// A fixture for the console: plain HTTP on `localhost` (so `Origin: http://localhost` is this server),
    /// limits out of the way unless a test sets them.
    static func fixture(clock: any WallClock = SystemWallClock(), _ configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> APIFixture {
        try await APIFixture.make(clock: clock) {
            $0.tls = false
            $0.authAddressLimit = RateLimit(limit: 10_000, window: 60)
            $0.accountLoginLimit = RateLimit(limit: 10_000, window: 60)
            configure(&$0)
        }
    }

    // MARK: Pages

    /// Every page: a CSP without inline code, HTML without inline script, style or handlers and nothing
    /// loaded from elsewhere, and the page with its stylesheet and script within 100 KB.
    @Test func everyPageIsStrictAndSmall() async throws {
        let f = try await Self.fixture { $0.registration = .open }
        try await f.account("root", roles: ["security_admin"])
        try await f.app.test(.router) { client async throws in
            var visitor = CookieJar()
            var root = CookieJar()
            let css = try await client.page("/console/assets/console.css", &visitor)
            let js = try await client.page("/console/assets/console.js", &visitor)
            #expect(css.status == .ok && css.contentType.hasPrefix("text/css") && !css.body.isEmpty)
            #expect(js.status == .ok && js.contentType.hasPrefix("text/javascript") && !js.body.isEmpty)
            for asset in [css.body, js.body] { #expect(Self.foreignURLs(asset).isEmpty) }
            try await client.consoleSignIn("root", &root)
            let pages: [(String, Bool)] = [
                ("/console/sign-in", false), ("/console/sign-up", false),
                ("/console/account", true), ("/console/account/totp", true), ("/console/account/password", true), ("/console/account/sessions", true),
                ("/console/account/passkeys", true), ("/console/admin", true), ("/console/admin/accounts", true), ("/console/admin/audit", true),
            ]
            for (path, signedIn) in pages {
                let page = signedIn ? try await client.page(path, &root) : try await client.page(path, &visitor)
                #expect(page.status == .ok && page.isHTML, "\(path): \(page.status)")
                let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!], "\(path)")
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "\(path): \(policy)")
                #expect(policy.contains("form-action 'self'") && policy.contains("script-src 'self'"), "\(path): \(policy)")
                #expect(Self.inlineScripts(page.body).isEmpty, "\(path): \(Self.inlineScripts(page.body))")
                #expect(!page.body.contains("<style"), "\(path)")
                #expect(Self.attributes(page.body, matching: #"^style$"#).isEmpty, "\(path)")
                #expect(Self.attributes(page.body, matching: #"^on[a-z]+$"#).isEmpty, "\(path): \(Self.attributes(page.body, matching: #"^on[a-z]+$"#))")
                #expect(Self.foreignURLs(page.body).isEmpty, "\(path): \(Self.foreignURLs(page.body))")
                // The page really is the one asked for (signed in where it must be), with its script and style.
                #expect(page.body.contains("src=\"/console/assets/console.js\"") && page.body.contains("href=\"/console/assets/console.css\""), "\(path)")
                #expect(page.body.contains("name=\"csrf\"") || path == "/console/admin/audit", "\(path)")
                let total = page.body.utf8.count + css.body.utf8.count + js.body.utf8.count
                #expect(total <= 100_000, "\(path): \(total) bytes")
            }
        }
    }

    /// The names of the attributes (in tags) whose name matches `pattern`.
    static func attributes(_ html: String, matching pattern: String) -> [String] {
        let name = try! Regex(pattern).ignoresCase()
        var found: [String] = []
        for tag in html.matches(of: #/<[a-zA-Z][^>]*>/#) {
            for attribute in tag.output.matches(of: #/\s([^\s=/>"']+)\s*=/#) where String(attribute.output.1).contains(name) {
                found.append(String(attribute.output.1))
            }
        }
        return found
    }

    /// `<script>` elements without `src`.
    static func inlineScripts(_ html: String) -> [String] {
        html.matches(of: #/<script\b[^>]*>/#.ignoresCase()).map { String($0.output) }.filter { !$0.contains("src=") }
    }

    /// Absolute or protocol-relative URLs (`http://`, `https://`, `//`) in resource attributes or CSS `url()`.
    static func foreignURLs(_ text: String) -> [String] {
        let attributes = text.matches(of: #/(?:src|href|action|formaction|poster|srcset|data)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)/#.ignoresCase()).map { String($0.output.1) }
        let css = text.matches(of: #/url\(\s*["']?((?:https?:)?//[^)"']*)/#.ignoresCase()).map { String($0.output.1) }
        let imports = text.matches(of: #/@import\s+["']?((?:https?:)?//[^"';]*)/#.ignoresCase()).map { String($0.output.1) }
        return attributes + css + imports
    }

    /// What the layers before the console's routes refuse (no route, a method the path does not take, an
    /// alias path, a repeated Host) is a page too, under the console's policy; the API keeps JSON.
    @Test func refusalsBeforeTheRoutesArePages() async throws {
        let f = try await Self.fixture()
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            let answers: [(String, HTTPResponse.Status, ConsolePage)] = [
                ("no route", .notFound, try await client.send(.get, "/console/no-such-page", body: nil, headers: [:], &jar)),
                ("alias path", .notFound, try await client.send(.get, "/console//sign-in", body: nil, headers: [:], &jar)),
                ("wrong method", .methodNotAllowed, try await client.send(.put, "/console/sign-in", body: nil, headers: [:], &jar)),
                ("repeated Host", .badRequest, try await client.send(.get, "/console/sign-in", body: nil, headers: [HTTPField.Name("Host")!: "evil.example"], &jar)),
            ]
            for (name, status, page) in answers {
                #expect(page.status == status, "\(name): \(page.status)")
                #expect(page.isHTML, "\(name): \(page.contentType)")
                #expect(
                    page.headers[HTTPField.Name("Content-Security-Policy")!]
                        == "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", "\(name)")
                #expect(page.body.hasPrefix("<!doctype html>") && page.body.contains("Back to the console"), "\(name)")
            }
            let api = try await client.send(.get, "/auth/no-such-route", body: nil, headers: [:], &jar)
            #expect(api.status == .notFound && api.contentType.hasPrefix("application/json"))
        }
    }

    // MARK: Cookies

    @Test func signInSetsHostOnlySecureCookies() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            let signIn = try await client.page("/console/sign-in", &jar)
            let answer = try await client.submit(signIn, "/console/sign-in", ["username": "ada", "password": Self.password], &jar)
            #expect(answer.status == .seeOther && answer.location == "/console/account")
            let set = answer.headers[values: .setCookie]
            let names = set.map { String($0.prefix { $0 != "=" }) }
            #expect(names.contains("__Host-warden-session") && names.contains("__Host-warden-refresh"), "\(names)")
            for cookie in jar.received {
                #expect(cookie.hasPrefix("__Host-"), "\(cookie)")
                let attributes = cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                #expect(attributes.contains("secure") && attributes.contains("httponly") && attributes.contains("samesite=strict") && attributes.contains("path=/"), "\(cookie)")
                #expect(!attributes.contains { $0.hasPrefix("domain") }, "\(cookie)")
            }
            // The cookies are the session: the account page opens with them.
            let account = try await client.page("/console/account", &jar)
            #expect(account.status == .ok && account.body.contains("ada"))
        }
    }

    // MARK: Form tokens and origins

    /// Each refused form answers 400 with a page saying why, and the password stays the same; the same
    /// form sent properly then changes it (so the refusals were the token's or the origin's doing).
    @Test func refusedFormsChangeNothing() async throws {
        let clock = ManualWallClock(Date())
        let f = try await Self.fixture(clock: clock)
        try await f.account("ada")
        let new = "a brand new passphrase 42"
        let fields: KeyValuePairs<String, String> = ["current_password": Self.password, "new_password": new, "new_password_confirmation": new]
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            var other = CookieJar()
            var stranger = CookieJar()
            try await client.consoleSignIn("ada", &jar)
            try await client.consoleSignIn("ada", &other)
            let action = "/console/account/password"
            func token() async throws -> String { try await client.page(action, &jar).csrf(action) }
            func body(_ token: String?) -> String { formEncoded(fields) + (token.map { "&csrf=" + $0 } ?? "") }

            var refusals: [(String, ConsolePage, String)] = []
            refusals.append(("no token", try await client.post(action, body(nil), &jar), "security token was missing or not valid"))
            let forged = SoftAuthenticator.b64((0..<40).map { _ in UInt8.random(in: 0...255) })
            refusals.append(("forged token", try await client.post(action, body(forged), &jar), "security token was missing or not valid"))
            // Another browser of the same account: its token is bound to its own session.
            let others = try await client.page(action, &other).csrf(action)
            refusals.append(("another browser's token", try await client.post(action, body(others), &jar), "security token was missing or not valid"))
            // A visitor's token (before sign-in) is not this session's either.
            let visitors = try await client.page("/console/sign-in", &stranger).csrf("/console/sign-in")
            refusals.append(("a visitor's token", try await client.post(action, body(visitors), &jar), "security token was missing or not valid"))
            // A token used once (by a submission refused for its content) cannot be used again.
            let used = try await token()
            let first = try await client.post(action, formEncoded(["current_password": Self.password, "new_password": new, "new_password_confirmation": "different"]) + "&csrf=" + used, &jar)
            #expect(first.status == .badRequest && first.errors.contains("The two new passwords differ."), "\(first.errors)")
            refusals.append(("reused token", try await client.post(action, body(used), &jar), "already submitted once"))
            let old = try await token()
            clock.advance(by: 3_601)
            refusals.append(("expired token", try await client.post(action, body(old), &jar), "open too long"))
            clock.advance(by: -3_601)
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            var fresh = try await token()
            refusals.append(("no Origin, no Sec-Fetch-Site", try await client.post(action, body(fresh), headers: headers, &jar), "sent from another site"))
            headers[.secFetchSite] = "cross-site"
            fresh = try await token()
            refusals.append(("Sec-Fetch-Site: cross-site", try await client.post(action, body(fresh), headers: headers, &jar), "sent from another site"))
            headers[.secFetchSite] = "same-origin"
            headers[.origin] = "https://evil.example"
            fresh = try await token()
            refusals.append(("Origin of another site, Sec-Fetch-Site: same-origin", try await client.post(action, body(fresh), headers: headers, &jar), "sent from another site"))
            headers[.secFetchSite] = nil
            for origin in ["null", "https://evil.example", "https://localhost.evil.example", "http://localhost:8080"] {
                headers[.origin] = origin
                fresh = try await token()
                refusals.append(("Origin: \(origin)", try await client.post(action, body(fresh), headers: headers, &jar), "sent from another site"))
            }
            for (name, page, message) in refusals {
                #expect(page.status == .badRequest, "\(name): \(page.status)")
                #expect(page.isHTML && !page.body.hasPrefix("{"), "\(name): \(page.contentType)")
                #expect(page.errors.contains { $0.contains(message) }, "\(name): \(page.errors)")
                #expect(!page.body.contains(new) && !page.body.contains(Self.password), "\(name)")
            }
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .ok)
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": new]).status == .unauthorized)

            // The same form, sent as a browser sends it, does change the password.
            let last = try await token()
            let done = try await client.post(action, body(last), &jar)
            #expect(done.status == .seeOther && done.location == "/console/account?done=password-changed", "\(done.status) \(done.errors)")
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": new]).status == .ok)
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .unauthorized)
        }
    }

    /// A visitor's sign-in form carries a token bound to that visitor: another visitor cannot use it
    /// (a login form cannot be submitted from another site into the victim's browser).
    @Test func aSignInTokenIsBoundToItsVisitor() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            var mine = CookieJar()
            var theirs = CookieJar()
            let token = try await client.page("/console/sign-in", &theirs).csrf("/console/sign-in")
            _ = try await client.page("/console/sign-in", &mine)
            let refused = try await client.post("/console/sign-in", formEncoded(["username": "ada", "password": Self.password, "csrf": token]), &mine)
            #expect(refused.status == .badRequest && refused.isHTML)
            #expect(refused.errors.contains { $0.contains("security token was missing or not valid") }, "\(refused.errors)")
            #expect(mine.values["__Host-warden-session"] == nil)
            // Sent from the browser it was made for, it signs in.
            let accepted = try await client.post("/console/sign-in", formEncoded(["username": "ada", "password": Self.password, "csrf": token]), &theirs)
            #expect(accepted.status == .seeOther && theirs.values["__Host-warden-session"] != nil)
        }
    }

    /// A browser that sends no `Origin` but says `Sec-Fetch-Site: same-origin` may post.
    @Test func secFetchSiteSameOriginIsEnoughWithoutOrigin() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            let token = try await client.page("/console/sign-in", &jar).csrf("/console/sign-in")
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .secFetchSite: "same-origin"]
            let answer = try await client.post("/console/sign-in", formEncoded(["username": "ada", "password": Self.password, "csrf": token]), headers: headers, &jar)
            #expect(answer.status == .seeOther && answer.location == "/console/account", "\(answer.status) \(answer.errors)")
        }
    }

    // MARK: Passkeys

    /// The console's passkey form, filled as its script would (the assertion as JSON in `credential`):
    /// a true assertion signs in with a passkey session; one without user verification gets the sign-in
    /// page again with a message.
    @Test func aPasskeySignsInThroughTheConsole() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            let authenticator = SoftAuthenticator()
            try await client.registerPasskey(authenticator, for: "ada")
            var jar = CookieJar()
            func attempt(flags: UInt8) async throws -> ConsolePage {
                let page = try await client.page("/console/sign-in", &jar)
                let action = "/console/sign-in/passkey"
                let options = try #require(page.attribute("data-options", in: action).flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
                let ceremony = try #require(page.field("ceremony", in: action))
                let credential = String(decoding: SoftAuthenticator.json(try authenticator.assert(options, flags: flags)), as: UTF8.self)
                return try await client.submit(page, action, ["ceremony": ceremony, "credential": credential], &jar)
            }
            let refused = try await attempt(flags: SoftAuthenticator.up)
            #expect(refused.status == .unauthorized && refused.isHTML, "\(refused.status)")
            #expect(refused.errors == ["That passkey was not accepted. Use another, or sign in with your password."], "\(refused.errors)")
            #expect(jar.values["__Host-warden-session"] == nil)

            let accepted = try await attempt(flags: SoftAuthenticator.up | SoftAuthenticator.uv)
            #expect(accepted.status == .seeOther && accepted.location == "/console/account", "\(accepted.status) \(accepted.errors)")
            let sessions = try await client.page("/console/account/sessions", &jar)
            #expect(sessions.status == .ok && sessions.body.contains("ada"))
            // The cookie holds an ordinary access token of a passkey session.
            let bearer = try #require(jar.values["__Host-warden-session"])
            let listed = try await client.json(.get, "/auth/sessions", token: bearer).body["sessions"] as? [[String: Any]]
            #expect(listed?.first { $0["current"] as? Bool == true }?["authentication_level"] as? String == "passkey")
            #expect(f.audit.latest(limit: 1_000).contains { $0.event.action == "mfa.passkey_sign_in" && $0.event.outcome == .success })
        }
    }

    // MARK: Bad input

    /// Malformed and oversized forms get the page again with a message (4xx, HTML); a typed password is
    /// never sent back.
    @Test func badInputGetsThePageAgain() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        let typed = "Typed-Secret-Password-9731"
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            func token() async throws -> String { try await client.page("/console/sign-in", &jar).csrf("/console/sign-in") }
            let json: HTTPFields = [.origin: "http://localhost", .contentType: "application/json"]
            let cases: [(String, (String) async throws -> ConsolePage, String)] = [
                ("empty fields", { token in try await client.post("/console/sign-in", formEncoded(["username": "", "password": "", "csrf": token]), &jar) }, "Enter your username."),
                ("only whitespace", { token in try await client.post("/console/sign-in", formEncoded(["username": "   ", "password": typed, "csrf": token]), &jar) }, "Enter your username."),
                (
                    "over 64 KiB",
                    { token in
                        try await client.post("/console/sign-in", formEncoded(["username": String(repeating: "a", count: 70_000), "password": typed, "csrf": token]), &jar)
                    }, "too large"
                ),
                (
                    "JSON",
                    { token in
                        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["username": "ada", "password": typed, "csrf": token]), as: UTF8.self)
                        return try await client.post("/console/sign-in", body, headers: json, &jar)
                    }, "could not be read"
                ),
                (
                    "a repeated field",
                    { token in
                        try await client.post("/console/sign-in", formEncoded(["username": "ada", "username": "root", "password": typed, "csrf": token]), &jar)
                    }, "could not be read"
                ),
                ("invalid percent-encoding", { token in try await client.post("/console/sign-in", "username=%zz&password=\(typed)&csrf=" + (token), &jar) }, "could not be read"),
                (
                    "a 10,000-character username",
                    { token in
                        try await client.post("/console/sign-in", formEncoded(["username": String(repeating: "u", count: 10_000), "password": typed, "csrf": token]), &jar)
                    }, "at most 64 characters"
                ),
            ]
            for (name, send, message) in cases {
                let fresh = try await token()
                let page = try await send(fresh)
                #expect((400..<500).contains(page.status.code), "\(name): \(page.status)")
                #expect(page.isHTML, "\(name): \(page.contentType)")
                #expect(page.errors.contains { $0.contains(message) }, "\(name): \(page.errors)")
                #expect(page.form("/console/sign-in") != nil, "\(name): the form is shown again")
                #expect(!page.body.contains(typed), "\(name): the password came back")
                #expect(jar.values["__Host-warden-session"] == nil, "\(name)")
            }
            // The password change form: empty fields are named, and nothing typed comes back.
            var signedIn = CookieJar()
            try await client.consoleSignIn("ada", &signedIn)
            let form = try await client.page("/console/account/password", &signedIn)
            let empty = try await client.submit(form, "/console/account/password", ["current_password": "", "new_password": typed, "new_password_confirmation": typed], &signedIn)
            #expect(empty.status == .badRequest && empty.isHTML && empty.errors.contains("Enter your current password."), "\(empty.errors)")
            #expect(!empty.body.contains(typed))
            let wrong = try await client.fill(
                "/console/account/password",
                ["current_password": typed, "new_password": "a brand new passphrase 42", "new_password_confirmation": "a brand new passphrase 42"], &signedIn)
            #expect((400..<500).contains(wrong.status.code) && wrong.isHTML && !wrong.errors.isEmpty, "\(wrong.status) \(wrong.errors)")
            #expect(!wrong.body.contains(typed) && !wrong.body.contains("a brand new passphrase 42"))
        }
    }

    /// An unknown username and a wrong password get the same answer.
    @Test func unknownUsernameAndWrongPasswordLookTheSame() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            let unknown = try await client.fill("/console/sign-in", ["username": "ghost", "password": "a wrong guess here"], &jar)
            let wrong = try await client.fill("/console/sign-in", ["username": "ada", "password": "a wrong guess here"], &jar)
            #expect(unknown.status == .unauthorized && wrong.status == unknown.status, "\(unknown.status) \(wrong.status)")
            #expect(unknown.errors == ["The username or password is not correct."], "\(unknown.errors)")
            #expect(wrong.errors == unknown.errors, "\(wrong.errors)")
            #expect(unknown.isHTML && wrong.isHTML)
            // The pages differ only in the username typed and the fresh tokens and passkey options.
            func normalized(_ page: ConsolePage, _ username: String) -> String {
                page.body.replacing(#/data-options="[^"]*"/#, with: "data-options=\"…\"").replacing(#/[A-Za-z0-9_.\-]{40,}/#, with: "…").replacing("value=\"\(username)\"", with: "value=\"…\"")
            }
            #expect(normalized(unknown, "ghost") == normalized(wrong, "ada"))
        }
    }

    // MARK: Sessions

    enum Ending: String, CaseIterable, Sendable { case revokedSession, logoutAll, disabledAccount }

    /// The console's session is an ordinary Warden session: ending it through the API (or disabling the
    /// account) sends the browser back to sign in.
    @Test(arguments: Ending.allCases) func endingTheSessionThroughTheAPIEndsTheConsoles(_ ending: Ending) async throws {
        let f = try await Self.fixture()
        let ada = try await f.account("ada")
        try await f.account("admin", roles: ["account_admin"])
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            try await client.consoleSignIn("ada", &jar)
            #expect(try await client.page("/console/account", &jar).status == .ok)
            let bearer = try #require(try await client.login("ada")["access_token"] as? String)
            switch ending {
            case .revokedSession:
                let sessions = try #require(try await client.json(.get, "/auth/sessions", token: bearer).body["sessions"] as? [[String: Any]])
                #expect(sessions.count == 2)
                let console = try #require(sessions.first { $0["current"] as? Bool == false }?["id"] as? String)
                let revoked = try await client.json(.delete, "/auth/sessions/\(console)", token: bearer)
                #expect(revoked.status == .noContent, "\(revoked.body)")
            case .logoutAll:
                #expect(try await client.json(.post, "/auth/logout-all", token: bearer).status.code < 300)
            case .disabledAccount:
                let admin = try #require(try await client.login("admin")["access_token"] as? String)
                let disabled = try await client.json(.post, "/admin/accounts/\(ada.id.lowercasedText)/disable", token: admin)
                #expect(disabled.status == .ok, "\(disabled.body)")
            }
            for path in ["/console/account", "/console/account/sessions"] {
                let page = try await client.page(path, &jar)
                #expect(page.status == .seeOther && page.location == "/console/sign-in", "\(ending) \(path): \(page.status) \(page.location ?? "")")
            }
            #expect(jar.values["__Host-warden-session"] == nil && jar.values["__Host-warden-refresh"] == nil, "\(jar.values.keys)")
        }
    }

    // MARK: Operators

    @Test func operatorPagesNeedAuditRead() async throws {
        let f = try await Self.fixture()
        try await f.account("ada")
        try await f.account("root", roles: ["security_admin"])
        try await f.app.test(.router) { client async throws in
            var ada = CookieJar()
            var root = CookieJar()
            try await client.consoleSignIn("ada", &ada)
            try await client.consoleSignIn("root", &root)
            for path in ["/console/admin", "/console/admin/accounts", "/console/admin/audit"] {
                let refused = try await client.page(path, &ada)
                #expect(refused.status == .forbidden && refused.isHTML, "\(path): \(refused.status)")
                #expect(refused.body.contains("Not allowed") && refused.body.contains("audit:read"), "\(path)")
                let shown = try await client.page(path, &root)
                #expect(shown.status == .ok && shown.isHTML, "\(path): \(shown.status)")
            }
            // The navigation shows operators' pages to operators only.
            #expect(!(try await client.page("/console/account", &ada)).body.contains("/console/admin/audit"))
            #expect(try await client.page("/console/account", &root).body.contains("/console/admin/audit"))

            let before = try Self.primaryVersion(try await client.page("/console/admin", &root))
            // Someone without keys:manage cannot rotate, even with a valid token of their own.
            let adasToken = try await client.page("/console/account", &ada).csrf("/console/sign-out")
            let refused = try await client.post("/console/admin/rotate", formEncoded(["csrf": adasToken]), &ada)
            #expect(refused.status == .forbidden && refused.isHTML, "\(refused.status)")
            #expect(try Self.primaryVersion(try await client.page("/console/admin", &root)) == before)

            let rotated = try await client.fill("/console/admin", action: "/console/admin/rotate", [:], &root)
            #expect(rotated.status == .seeOther && rotated.location == "/console/admin?done=rotated", "\(rotated.status) \(rotated.errors)")
            let after = try await client.page("/console/admin?done=rotated", &root)
            #expect(try Self.primaryVersion(after) == before + 1)
            #expect(after.body.contains("A new key version is now primary."))
        }
    }

    static func primaryVersion(_ page: ConsolePage) throws -> Int {
        let match = try #require(page.body.firstMatch(of: #/id="primary-version">(\d+)</#), "\(page.status) \(page.body.prefix(200))")
        return try #require(Int(match.output.1))
    }

    // MARK: Rate limits

    /// The console's sign-in form counts toward the same per-address limit as `/auth/login`.
    @Test func signInCountsTowardTheAuthAddressLimit() async throws {
        let f = try await Self.fixture { $0.authAddressLimit = RateLimit(limit: 3, window: 60) }
        try await f.account("ada")
        try await f.app.test(.router) { client async throws in
            var jar = CookieJar()
            var statuses: [HTTPResponse.Status] = []
            var last: ConsolePage?
            for _ in 0..<4 {
                let page = try await client.fill("/console/sign-in", ["username": "ada", "password": "a wrong guess here"], &jar)
                statuses.append(page.status)
                last = page
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests])
            let limited = try #require(last)
            #expect(limited.isHTML && !limited.body.hasPrefix("{") && limited.body.contains("Slow down"), "\(limited.contentType)")
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(limited.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("form-action 'self'") == true)
            // The API's login shares the count.
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Self.password]).status == .tooManyRequests)
        }
    }
}
