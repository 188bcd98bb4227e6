import Foundation
import HTTPTypes
import Hummingbird
import WardenAccess
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// Sign-in (password, then the second factor; or a passkey alone), sign-up and sign-out.
extension WardenAPI {
    static let deviceCookie = "__Host-warden-device"

    func addConsoleSignInRoutes(_ router: Router<WardenContext>) {
        console(router, .get, "/console", signedIn: false) { console in
            ConsoleResponse.redirect(console.principal == nil ? "/console/sign-in" : "/console/account")
        }
        console(router, .get, "/console/sign-in", signedIn: false) { console in
            if console.principal != nil { return ConsoleResponse.redirect("/console/account") }
            let notice = console.request.uri.queryParameters.get("done").flatMap(Self.notice)
            return try await signInPage(console, flash: notice.map { [$0] } ?? [])
        }
        consoleForm(router, "/console/sign-in", signedIn: false, refused: { console, message in try await signInPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let username = form.trimmed("username") ?? ""
            var errors: FieldErrors = [:]
            if username.isEmpty { errors["username"] = "Enter your username." } else if username.utf8.count > 256 { errors["username"] = "A username has at most 64 characters." }
            let password = form["password"] ?? ""
            if password.isEmpty { errors["password"] = "Enter your password." } else if password.utf8.count > 1024 { errors["password"] = "That password is longer than any Warden accepts." }
            guard errors.isEmpty else { return try await signInPage(console, username: username, errors: errors, status: .badRequest) }
            let login = AccountSecurity.LoginRequest(
                username: username, password: password, device: console.device, deviceToken: ConsoleCookie.value(console.request, Self.deviceCookie))
            do {
                switch try await services.security.login(login, context: console.context.audit) {
                case .signedIn(let signedIn):
                    metrics.increment("warden_logins_total", ["outcome": "success"])
                    return signedInResponse(signedIn)
                case .challenge(let challenge):
                    return await factorPage(console, challenge: challenge.token, methods: challenge.methods)
                }
            } catch {
                if Self.isOutage(error) { throw error }
                metrics.increment("warden_logins_total", ["outcome": "failure"])
                return try await signInPage(console, username: username, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
        consoleForm(
            router, "/console/sign-in/factor", signedIn: false, refused: { console, message in try await signInPage(console, flash: [.error(message + " Sign in again.")], status: .badRequest) }
        ) { console, form in
            let challenge = form["challenge"] ?? ""
            let methods = (form["methods"] ?? "").split(separator: ",").compactMap { MFAService.Method(rawValue: String($0)) }
            guard challenge.utf8.count <= 128, let method = form["method"].flatMap(MFAService.Method.init(rawValue:)) else {
                return await factorPage(console, challenge: challenge, methods: methods, flash: [.error("Choose how to verify.")], status: .badRequest)
            }
            let code = method == .passkey ? (form["credential"] ?? "") : (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !code.isEmpty, code.utf8.count <= (method == .passkey ? 65_536 : 64) else {
                return await factorPage(console, challenge: challenge, methods: methods, selected: method, errors: ["code": "Enter the code."], status: .badRequest)
            }
            do {
                let signedIn = try await services.security.completeChallenge(token: challenge, method: method, code: code, device: console.device, context: console.context.audit)
                return signedInResponse(signedIn)
            } catch {
                if Self.isOutage(error) { throw error }
                return await factorPage(console, challenge: challenge, methods: methods, selected: method, errors: ["code": Self.message(error)], status: APIError.from(error).status)
            }
        }
        consoleForm(router, "/console/sign-in/send", signedIn: false, refused: { console, message in try await signInPage(console, flash: [.error(message + " Sign in again.")], status: .badRequest) })
        { console, form in
            let challenge = form["challenge"] ?? ""
            let methods = (form["methods"] ?? "").split(separator: ",").compactMap { MFAService.Method(rawValue: String($0)) }
            guard challenge.utf8.count <= 128, let method = form["method"].flatMap(MFAService.Method.init(rawValue:)), method == .sms || method == .email else {
                return await factorPage(console, challenge: challenge, methods: methods, flash: [.error("Choose where to send the code.")], status: .badRequest)
            }
            do {
                try await services.security.sendChallengeCode(token: challenge, method: method, device: console.device, context: console.context.audit)
                return await factorPage(
                    console, challenge: challenge, methods: methods, selected: method, flash: [.ok(method == .sms ? "A code is on its way by SMS." : "A code is on its way by email.")])
            } catch {
                if Self.isOutage(error) { throw error }
                return await factorPage(console, challenge: challenge, methods: methods, selected: method, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
        console(router, .post, "/console/sign-out", signedIn: false) { console in
            if let principal = console.principal {
                do { _ = try await readForm(console) } catch let refusal as ConsoleFormRefusal {
                    return ConsoleResponse.page(layout(title: "Sign out", console: console, current: nil, flash: [.error(refusal.message)], body: signOutAgain(console)), status: .badRequest)
                }
                try await services.security.logout(principal)
                metrics.increment("warden_session_revocations_total", ["kind": "logout"])
            }
            return ConsoleResponse.redirect("/console/sign-in?done=signed-out", cookies: ConsoleCookie.clearAll)
        }
        console(router, .get, "/console/sign-up", signedIn: false) { console in
            if console.principal != nil { return ConsoleResponse.redirect("/console/account") }
            return signUpPage(console)
        }
        consoleForm(router, "/console/sign-up", signedIn: false, refused: { console, message in signUpPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            guard configuration.registration != .admin else { return signUpPage(console, status: .forbidden) }
            var values: [String: String] = [:]
            for name in ["username", "email", "invite_code"] { values[name] = form.trimmed(name) }
            var errors: FieldErrors = [:]
            let password = form["password"] ?? ""
            if values["username"] == nil { errors["username"] = "Choose a username." }
            if password.isEmpty { errors["password"] = "Choose a password." }
            if password != (form["password_confirmation"] ?? "") { errors["password_confirmation"] = "The two passwords differ." }
            if configuration.registration == .invite, values["invite_code"] == nil { errors["invite_code"] = "Enter your invite code." }
            guard errors.isEmpty else { return signUpPage(console, values: values, errors: errors, status: .badRequest) }
            do {
                let new = try Self.newAccount(username: values["username"]!, password: password, email: values["email"], phone: nil)
                _ = try await services.security.register(
                    new, rule: configuration.registrationRule, inviteCode: values["invite_code"].map { String($0.prefix(256)) }, principal: nil, context: console.context.audit)
            } catch {
                if Self.isOutage(error) { throw error }
                let message = Self.message(error)
                var errors: FieldErrors = [:]
                switch APIError.from(error).code {
                case "username_taken": errors["username"] = message
                default:
                    let lowered = message.lowercased()
                    if lowered.contains("password") {
                        errors["password"] = message
                    } else if lowered.contains("email") {
                        errors["email"] = message
                    } else if lowered.contains("invite") {
                        errors["invite_code"] = message
                    } else if lowered.contains("username") {
                        errors["username"] = message
                    } else {
                        return signUpPage(console, values: values, flash: [.error(message)], status: APIError.from(error).status)
                    }
                }
                return signUpPage(console, values: values, errors: errors, status: APIError.from(error).status)
            }
            // The new account signs in with what it just chose.
            let login = AccountSecurity.LoginRequest(username: values["username"]!, password: password, device: console.device)
            if case .signedIn(let signedIn) = try await services.security.login(login, context: console.context.audit) {
                return signedInResponse(signedIn, to: "/console/account?done=welcome")
            }
            return ConsoleResponse.redirect("/console/sign-in?done=account-created")
        }
        on(router, .get, "/console/assets/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: .init(string: ConsoleAssets.stylesheet)))
        }
        on(router, .get, "/console/assets/console.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: .init(string: ConsoleAssets.script)))
        }
    }

    /// Sets the session cookies (and the device token, which exempts this browser from the password lock
    /// strangers' guesses may set) and goes to the account page.
    func signedInResponse(_ signedIn: AccountSecurity.SignedIn, to location: String = "/console/account") -> Response {
        ConsoleResponse.redirect(location, cookies: ConsoleCookie.issued(signedIn.issued) + [ConsoleCookie.set(Self.deviceCookie, signedIn.deviceToken, maxAge: 180 * 86_400)])
    }

    /// Fixed messages named by `?done=` after a redirect (never text from the request).
    static func notice(_ key: String) -> Flash? {
        switch key {
        case "signed-out": .ok("You are signed out.")
        case "signed-out-everywhere": .ok("You are signed out on every device.")
        case "account-created": .ok("Your account is ready. Sign in.")
        case "welcome": .ok("Welcome to Warden. Your account is ready; add a second factor below.")
        case "password-changed": .ok("Your password is changed. Your other sessions were signed out.")
        case "totp-enrolled": .ok("The authenticator app is set up. Sign-ins now ask for its code.")
        case "contact-enrolled": .ok("The factor is set up. Sign-ins can now use codes sent to it.")
        case "session-revoked": .ok("That session is signed out.")
        case "passkey-added": .ok("The passkey is registered. You can sign in with it, with or without your password.")
        case "passkey-renamed": .ok("The passkey is renamed.")
        case "passkey-removed": .ok("The passkey is removed.")
        case "rotated": .ok("A new key version is now primary.")
        case "account-updated": .ok("The account is updated.")
        default: nil
        }
    }

    func signInPage(_ console: ConsoleRequest, username: String? = nil, errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        var body = HTML(raw: "<div class=\"card\"><h1>Sign in</h1><form method=\"post\" action=\"/console/sign-in\" novalidate>")
        body.raw(csrfField(console))
        body.raw(Self.field("username", "Username", value: username, errors: errors, autocomplete: "username webauthn", maxLength: 64))
        body.raw(Self.field("password", "Password", type: "password", errors: errors, autocomplete: "current-password", maxLength: 1024))
        body.raw("<div class=\"actions\"><button type=\"submit\">Sign in</button>")
        if configuration.registration != .admin { body.raw("<a class=\"button secondary\" href=\"/console/sign-up\">Create an account</a>") }
        body.raw("</div></form>")
        body.raw(try await passkeySignInForm(console))
        body.raw("</div>")
        return ConsoleResponse.page(layout(title: "Sign in", console: console, current: nil, flash: flash, body: body, narrow: true), status: status)
    }

    func factorPage(
        _ console: ConsoleRequest, challenge: String, methods: [MFAService.Method], selected: MFAService.Method? = nil, errors: FieldErrors = [:],
        flash: [Flash] = [], status: HTTPResponse.Status = .ok
    ) async -> Response {
        let codeMethods = methods.filter { $0 != .passkey }
        let chosen = selected.flatMap { codeMethods.contains($0) ? $0 : nil } ?? codeMethods.first
        let hidden = "<input type=\"hidden\" name=\"challenge\" value=\"\(challenge.html)\"><input type=\"hidden\" name=\"methods\" value=\"\(methods.map(\.rawValue).joined(separator: ","))\">"
        var body = HTML(raw: "<div class=\"card\"><h1>Verify it is you</h1><p class=\"muted\">Your password was right. Finish signing in with your second factor.</p>")
        if methods.contains(.passkey) { body.raw(await passkeyFactorForm(console, challenge: challenge, methods: methods)) }
        if !codeMethods.isEmpty {
            if methods.contains(.passkey) { body.raw("<div class=\"divider\">or use a code</div>") }
            body.raw("<form method=\"post\" action=\"/console/sign-in/factor\" novalidate>\(csrfField(console))\(hidden)")
            body.raw("<label for=\"method\">Method</label><select id=\"method\" name=\"method\">")
            for method in codeMethods {
                body.raw("<option value=\"\(method.rawValue)\"\(method == chosen ? " selected" : "")>\(Self.methodName(method))</option>")
            }
            body.raw("</select>")
            body.raw(Self.field("code", "Code", errors: errors, hint: "from your app, a message, or one of your backup codes", autocomplete: "one-time-code", maxLength: 64))
            body.raw("<div class=\"actions\"><button type=\"submit\">Verify</button></div></form>")
            for method in codeMethods where method == .sms || method == .email {
                body.raw(
                    "<form class=\"actions\" method=\"post\" action=\"/console/sign-in/send\">\(csrfField(console))\(hidden)<input type=\"hidden\" name=\"method\" value=\"\(method.rawValue)\"><button class=\"secondary small\" type=\"submit\">Send me a code by \(method == .sms ? "SMS" : "email")</button></form>"
                )
            }
        }
        body.raw("<p class=\"muted\"><a href=\"/console/sign-in\">Start again</a></p></div>")
        return ConsoleResponse.page(layout(title: "Verify", console: console, current: nil, flash: flash, body: body, narrow: true), status: status)
    }

    static func methodName(_ method: MFAService.Method) -> String {
        switch method {
        case .totp: "Authenticator app"
        case .sms: "Code by SMS"
        case .email: "Code by email"
        case .backupCode: "Backup code"
        case .passkey: "Passkey"
        }
    }

    func signUpPage(_ console: ConsoleRequest, values: [String: String] = [:], errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok) -> Response {
        var body = HTML(raw: "<div class=\"card\"><h1>Create an account</h1>")
        if configuration.registration == .admin {
            body.raw("<p>Accounts on this Warden are created by an administrator. Ask yours for an account, then <a href=\"/console/sign-in\">sign in</a>.</p></div>")
            return ConsoleResponse.page(layout(title: "Create an account", console: console, current: nil, flash: flash, body: body, narrow: true), status: status)
        }
        body.raw("<form method=\"post\" action=\"/console/sign-up\" novalidate>\(csrfField(console))")
        body.raw(Self.field("username", "Username", value: values["username"], errors: errors, hint: "3–64 letters, digits, . _ -", autocomplete: "username", maxLength: 64))
        body.raw(Self.field("email", "Email", type: "email", value: values["email"], errors: errors, hint: "optional, for notices and codes", autocomplete: "email", required: false, maxLength: 254))
        body.raw(Self.field("password", "Password", type: "password", errors: errors, hint: "at least 12 characters", autocomplete: "new-password", maxLength: 256))
        body.raw(Self.field("password_confirmation", "Password again", type: "password", errors: errors, autocomplete: "new-password", maxLength: 256))
        if configuration.registration == .invite {
            body.raw(Self.field("invite_code", "Invite code", value: values["invite_code"], errors: errors, autocomplete: "off", maxLength: 256))
        }
        body.raw("<div class=\"actions\"><button type=\"submit\">Create account</button><a href=\"/console/sign-in\">I have an account</a></div></form></div>")
        return ConsoleResponse.page(layout(title: "Create an account", console: console, current: nil, flash: flash, body: body, narrow: true), status: status)
    }

    func signOutAgain(_ console: ConsoleRequest) -> HTML {
        HTML(raw: "<div class=\"card\"><h1>Sign out</h1><form method=\"post\" action=\"/console/sign-out\">\(csrfField(console))<button type=\"submit\">Sign out</button></form></div>")
    }
}
