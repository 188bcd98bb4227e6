import Foundation
import HTTPTypes
import Hummingbird
import WardenAccess
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// The signed-in person's pages: overview, factors, backup codes, password, sessions.
extension WardenAPI {
    func addConsoleAccountRoutes(_ router: Router<WardenContext>) {
        console(router, .get, "/console/account") { console in
            try await accountPage(console, flash: console.request.uri.queryParameters.get("done").flatMap(Self.notice).map { [$0] } ?? [])
        }
        console(router, .get, "/console/account/totp") { console in try await totpStartPage(console) }
        consoleForm(router, "/console/account/totp", refused: { console, message in try await totpStartPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let principal = console.principal!
            let name = form.trimmed("name") ?? "Authenticator app"
            do {
                let enrollment = try await services.security.enrollTOTP(deviceName: name, proof: Self.proof(form), principal)
                return try totpConfirmPage(console, factorID: enrollment.factorID, secret: enrollment.secret, qr: enrollment.qrPNG(moduleSize: 5))
            } catch {
                if Self.isOutage(error) { throw error }
                return try await totpStartPage(console, name: name, errors: Self.proofErrors(error, fallback: "name"), status: APIError.from(error).status)
            }
        }
        consoleForm(
            router, "/console/account/totp/confirm", refused: { console, message in try await totpStartPage(console, flash: [.error(message + " Start the setup again.")], status: .badRequest) }
        ) { console, form in
            guard let factor = form["factor"].flatMap({ UUID(text: $0) }) else { return try await totpStartPage(console, flash: [.error("Start the setup again.")], status: .badRequest) }
            let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
            do {
                guard !code.isEmpty, code.utf8.count <= 16 else { throw ConsoleFormRefusal(message: "Enter the 6-digit code your app shows.") }
                _ = try await services.security.confirmFactor(factor, code: code, console.principal!)
                return ConsoleResponse.redirect("/console/account?done=totp-enrolled")
            } catch {
                if Self.isOutage(error) { throw error }
                return try await totpStartPage(
                    console, flash: [.error(Self.message(error) + " Start the setup again: the secret shown before is no longer valid once you leave its page.")], status: APIError.from(error).status)
            }
        }
        console(router, .get, "/console/account/contact") { console in
            let kind = console.request.uri.queryParameters.get("kind") == "sms" ? MFAState.Factor.Kind.sms : .email
            return try await contactStartPage(console, kind: kind)
        }
        consoleForm(router, "/console/account/contact", refused: { console, message in try await contactStartPage(console, kind: .email, flash: [.error(message)], status: .badRequest) }) {
            console, form in
            let kind: MFAState.Factor.Kind = form["kind"] == "sms" ? .sms : .email
            let destination = form.trimmed("destination") ?? ""
            guard !destination.isEmpty, destination.utf8.count <= 254 else {
                return try await contactStartPage(
                    console, kind: kind, errors: ["destination": kind == .sms ? "Enter a phone number, like +14155550123." : "Enter an email address."], status: .badRequest)
            }
            do {
                let factor = try await services.security.enrollDestination(
                    kind, destination: destination, name: kind == .sms ? "Phone" : "Email", proof: Self.proof(form), console.principal!)
                return contactConfirmPage(console, kind: kind, factorID: factor)
            } catch {
                if Self.isOutage(error) { throw error }
                return try await contactStartPage(console, kind: kind, destination: destination, errors: Self.proofErrors(error, fallback: "destination"), status: APIError.from(error).status)
            }
        }
        consoleForm(router, "/console/account/contact/confirm", refused: { console, message in try await accountPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let kind: MFAState.Factor.Kind = form["kind"] == "sms" ? .sms : .email
            guard let factor = form["factor"].flatMap({ UUID(text: $0) }) else { return try await accountPage(console, flash: [.error("Start the setup again.")], status: .badRequest) }
            let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
            do {
                guard !code.isEmpty, code.utf8.count <= 16 else { throw ConsoleFormRefusal(message: "Enter the code that was sent.") }
                _ = try await services.security.confirmFactor(factor, code: code, console.principal!)
                return ConsoleResponse.redirect("/console/account?done=contact-enrolled")
            } catch {
                if Self.isOutage(error) { throw error }
                return contactConfirmPage(console, kind: kind, factorID: factor, errors: ["code": Self.message(error)], status: APIError.from(error).status)
            }
        }
        consoleForm(router, "/console/account/backup-codes", refused: { console, message in try await accountPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            do {
                let codes = try await services.security.regenerateBackupCodes(proof: Self.proof(form), console.principal!)
                return backupCodesPage(console, codes: codes)
            } catch {
                if Self.isOutage(error) { throw error }
                return try await accountPage(console, flash: [.error(Self.message(error))], proofErrors: Self.proofErrors(error, fallback: "code"), status: APIError.from(error).status)
            }
        }
        console(router, .get, "/console/account/password") { console in passwordPage(console) }
        consoleForm(router, "/console/account/password", refused: { console, message in passwordPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let current = form["current_password"] ?? ""
            let new = form["new_password"] ?? ""
            var errors: FieldErrors = [:]
            if current.isEmpty { errors["current_password"] = "Enter your current password." }
            if new.isEmpty { errors["new_password"] = "Choose a new password." } else if new.utf8.count > 256 { errors["new_password"] = "A password has at most 256 bytes." }
            if new != (form["new_password_confirmation"] ?? "") { errors["new_password_confirmation"] = "The two new passwords differ." }
            guard errors.isEmpty else { return passwordPage(console, errors: errors, status: .badRequest) }
            do {
                _ = try await services.security.changeOwnPassword(current: String(current.prefix(1024)), new: new, console.principal!)
                return ConsoleResponse.redirect("/console/account?done=password-changed")
            } catch {
                if Self.isOutage(error) { throw error }
                let failure = APIError.from(error)
                let field = failure.code == "reauthentication_required" ? "current_password" : failure.code == "invalid_request" ? "new_password" : nil
                if let field { return passwordPage(console, errors: [field: Self.message(error)], status: failure.status) }
                return passwordPage(console, flash: [.error(Self.message(error))], status: failure.status)
            }
        }
        console(router, .get, "/console/account/sessions") { console in
            try await sessionsPage(console, flash: console.request.uri.queryParameters.get("done").flatMap(Self.notice).map { [$0] } ?? [])
        }
        consoleForm(router, "/console/account/sessions/revoke", refused: { console, message in try await sessionsPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            do {
                try await services.security.revokeOwnSession(form["session"] ?? "", console.principal!)
                metrics.increment("warden_session_revocations_total", ["kind": "revoke"])
            } catch {
                if Self.isOutage(error) { throw error }
                return try await sessionsPage(console, flash: [.error("That session is not one of yours, or it has already ended.")], status: .notFound)
            }
            if form["session"] == console.principal?.session?.sessionHash {
                return ConsoleResponse.redirect("/console/sign-in?done=signed-out", cookies: ConsoleCookie.clearAll)
            }
            return ConsoleResponse.redirect("/console/account/sessions?done=session-revoked")
        }
        consoleForm(router, "/console/account/sessions/revoke-all", refused: { console, message in try await sessionsPage(console, flash: [.error(message)], status: .badRequest) }) { console, _ in
            let count = try await services.security.logoutEverywhere(console.principal!)
            metrics.increment("warden_session_revocations_total", ["kind": "logout_all"], by: count)
            return ConsoleResponse.redirect("/console/sign-in?done=signed-out-everywhere", cookies: ConsoleCookie.clearAll)
        }
    }

    // MARK: Proof of identity

    /// Whether the caller's session completed a second factor recently enough for sensitive changes.
    func verifiedRecently(_ console: ConsoleRequest) -> Bool {
        guard let session = console.principal?.session, session.level.isMultiFactor else { return false }
        return console.now.timeIntervalSince(session.sessionCreated) <= services.security.mfa.policy.recentAuthentication
    }

    /// The fields a sensitive change asks for: the current password (no MFA), a code (MFA), or nothing
    /// (a second factor completed within the last minutes).
    func proofFields(_ console: ConsoleRequest, methods: [MFAService.Method], errors: FieldErrors) -> String {
        if verifiedRecently(console) { return "<p class=\"muted\">You verified with your second factor a few minutes ago, so no code is needed.</p>" }
        if methods.isEmpty {
            return Self.field("current_password", "Current password", type: "password", errors: errors, hint: "to confirm it is you", autocomplete: "current-password", maxLength: 1024)
        }
        var html = "<label for=\"proof_method\">Confirm with</label><select id=\"proof_method\" name=\"proof_method\">"
        for method in methods where method == .totp || method == .backupCode {
            html += "<option value=\"\(method.rawValue)\">\(Self.methodName(method))</option>"
        }
        html += "</select>"
        html += Self.field("code", "Code", errors: errors, hint: "to confirm it is you", autocomplete: "one-time-code", maxLength: 64)
        return html
    }

    static func proof(_ form: FormBody) -> AccountSecurity.Reauthentication {
        AccountSecurity.Reauthentication(
            password: form["current_password"].flatMap { $0.isEmpty ? nil : String($0.prefix(1024)) },
            code: form.trimmed("code").map { String($0.prefix(64)) },
            method: form["proof_method"].flatMap(MFAService.Method.init(rawValue:)))
    }

    /// A refused change's message, next to the proof field it concerns (or `fallback`).
    static func proofErrors(_ error: any Error, fallback: String) -> FieldErrors {
        let failure = APIError.from(error)
        let message = Self.message(error)
        if failure.code == "reauthentication_required" { return message.lowercased().contains("password") ? ["current_password": message] : ["code": message] }
        if failure.code == "invalid_code" || failure.code == "mfa_locked" { return ["code": message] }
        return [fallback: message]
    }

    /// How a session was signed in, as a badge.
    static func levelBadge(_ level: AuthenticationLevel) -> String {
        switch level {
        case .passkey: "<span class=\"badge ok\">passkey</span>"
        case .multiFactor: "<span class=\"badge ok\">two-step</span>"
        case .password: "<span class=\"badge warn\">password only</span>"
        }
    }

    // MARK: Pages

    func accountPage(_ console: ConsoleRequest, flash: [Flash] = [], proofErrors: FieldErrors = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = console.principal!
        let accountID = principal.accountID!
        let mfa = services.security.mfa
        let factors = try await mfa.factors(accountID: accountID).filter { $0.confirmed != nil }
        let methods = try await mfa.methods(accountID: accountID)
        let remaining = try await mfa.remainingBackupCodes(accountID: accountID)
        let passkeys = try await mfa.passkeys(accountID: accountID)
        let sessions = try await services.security.ownSessions(principal)
        var body = HTML(raw: "<h1>Your account</h1><div class=\"grid\"><div class=\"card\"><h2>Profile</h2><p><strong>")
        body.text(console.account?.username ?? "")
        body.raw("</strong></p><p class=\"muted\">")
        body.text(console.account?.email ?? "No email address on file")
        body.raw("</p><p class=\"muted\">Member since \(Self.time(console.account?.created))</p><p><a class=\"button secondary\" href=\"/console/account/password\">Change password</a></p></div>")
        body.raw("<div class=\"card\"><h2>Sign-in strength</h2>")
        let level = Self.levelBadge(principal.session?.level ?? .password)
        body.raw("<p>This session: \(level)</p>")
        body.raw(
            methods.isEmpty
                ? "<p class=\"flash warn\">Your account has no second factor. Add one below: a password alone is easy to steal.</p>"
                : "<p><span class=\"badge ok\">Two-step verification is on</span></p>")
        body.raw(
            "<p><a href=\"/console/account/sessions\">\(sessions.count) active session\(sessions.count == 1 ? "" : "s")</a> · <a href=\"/console/account/passkeys\">\(passkeys.count) passkey\(passkeys.count == 1 ? "" : "s")</a></p></div></div>"
        )

        body.raw("<div class=\"card\"><h2>Second factors</h2>")
        if factors.isEmpty {
            body.raw("<p class=\"muted\">None yet.</p>")
        } else {
            body.raw("<table><thead><tr><th>Factor</th><th>Kind</th><th>Added</th><th>Last used</th></tr></thead><tbody>")
            for factor in factors {
                body.raw("<tr><td>")
                body.text(factor.name)
                body.raw(
                    "</td><td>\(factor.kind == .totp ? "Authenticator app" : factor.kind == .sms ? "SMS" : "Email")</td><td>\(Self.time(factor.confirmed))</td><td>\(Self.time(factor.lastUsed))</td></tr>"
                )
            }
            body.raw("</tbody></table>")
        }
        body.raw("<div class=\"actions\"><a class=\"button\" href=\"/console/account/totp\">Set up an authenticator app</a>")
        if services.channels.contains(.sms) { body.raw("<a class=\"button secondary\" href=\"/console/account/contact?kind=sms\">Add a phone</a>") }
        if services.channels.contains(.email) { body.raw("<a class=\"button secondary\" href=\"/console/account/contact?kind=email\">Add an email</a>") }
        body.raw("<a class=\"button secondary\" href=\"/console/account/passkeys\">Passkeys</a></div></div>")

        body.raw("<div class=\"card\" id=\"backup-codes\"><h2>Backup codes</h2>")
        if methods.isEmpty {
            body.raw("<p class=\"muted\">Backup codes come with two-step verification: set up a factor first.</p></div>")
        } else {
            body.raw("<p>\(remaining) unused backup code\(remaining == 1 ? "" : "s") left. Each works once, when you cannot use your other factors. Making new ones replaces the old ones.</p>")
            body.raw("<form method=\"post\" action=\"/console/account/backup-codes\" novalidate>\(csrfField(console))")
            body.raw(proofFields(console, methods: methods, errors: proofErrors))
            body.raw("<div class=\"actions\"><button type=\"submit\">Make new backup codes</button></div></form></div>")
        }
        return ConsoleResponse.page(layout(title: "Account", console: console, current: "/console/account", flash: flash, body: body), status: status)
    }

    func totpStartPage(_ console: ConsoleRequest, name: String? = nil, errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let methods = try await services.security.mfa.methods(accountID: console.principal!.accountID!)
        var body = HTML(
            raw:
                "<div class=\"card\"><h1>Set up an authenticator app</h1><p>Use any app that shows 6-digit codes (TOTP), such as a password manager or an authenticator app. You will scan a QR code or type a secret, then enter one code to finish.</p>"
        )
        body.raw("<form method=\"post\" action=\"/console/account/totp\" novalidate>\(csrfField(console))")
        body.raw(Self.field("name", "Name for this app", value: name ?? "Authenticator app", errors: errors, maxLength: 64))
        body.raw(proofFields(console, methods: methods, errors: errors))
        body.raw("<div class=\"actions\"><button type=\"submit\">Continue</button><a href=\"/console/account\">Cancel</a></div></form></div>")
        return ConsoleResponse.page(layout(title: "Authenticator app", console: console, current: "/console/account", flash: flash, body: body), status: status)
    }

    func totpConfirmPage(_ console: ConsoleRequest, factorID: UUID, secret: String, qr: [UInt8], errors: FieldErrors = [:]) throws -> Response {
        var body = HTML(raw: "<div class=\"card\"><h1>Scan this code</h1><div class=\"qr\">")
        body.raw("<img alt=\"QR code holding the new authenticator secret\" src=\"data:image/png;base64,\(Base64.encode(qr))\">")
        body.raw("<div><p>Scan the QR code with your app. If you cannot scan, type this secret instead:</p><p class=\"secret\" id=\"totp-secret\">")
        body.text(secret)
        body.raw("</p><p class=\"muted\">The secret is shown only on this page.</p>")
        body.raw("<form method=\"post\" action=\"/console/account/totp/confirm\" novalidate>\(csrfField(console))<input type=\"hidden\" name=\"factor\" value=\"\(factorID.lowercasedText)\">")
        body.raw(Self.field("code", "Code from the app", errors: errors, autocomplete: "one-time-code", maxLength: 16))
        body.raw("<div class=\"actions\"><button type=\"submit\">Turn on</button></div></form></div></div></div>")
        return ConsoleResponse.page(layout(title: "Scan the code", console: console, current: "/console/account", body: body))
    }

    func contactStartPage(_ console: ConsoleRequest, kind: MFAState.Factor.Kind, destination: String? = nil, errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let methods = try await services.security.mfa.methods(accountID: console.principal!.accountID!)
        var body = HTML(raw: "<div class=\"card\"><h1>\(kind == .sms ? "Add a phone for codes by SMS" : "Add an email address for codes")</h1>")
        guard services.channels.contains(kind) else {
            body.raw("<p>This Warden has no \(kind == .sms ? "SMS" : "email") sender configured.</p></div>")
            return ConsoleResponse.page(layout(title: "Add a factor", console: console, current: "/console/account", flash: flash, body: body), status: status)
        }
        body.raw("<form method=\"post\" action=\"/console/account/contact\" novalidate>\(csrfField(console))<input type=\"hidden\" name=\"kind\" value=\"\(kind.rawValue)\">")
        body.raw(
            Self.field(
                "destination", kind == .sms ? "Phone number" : "Email address", type: kind == .sms ? "tel" : "email", value: destination, errors: errors,
                hint: kind == .sms ? "in international form, like +14155550123" : nil, autocomplete: kind == .sms ? "tel" : "email", maxLength: 254))
        body.raw(proofFields(console, methods: methods, errors: errors))
        body.raw("<div class=\"actions\"><button type=\"submit\">Send a code</button><a href=\"/console/account\">Cancel</a></div></form></div>")
        return ConsoleResponse.page(layout(title: "Add a factor", console: console, current: "/console/account", flash: flash, body: body), status: status)
    }

    func contactConfirmPage(_ console: ConsoleRequest, kind: MFAState.Factor.Kind, factorID: UUID, errors: FieldErrors = [:], status: HTTPResponse.Status = .ok) -> Response {
        var body = HTML(raw: "<div class=\"card\"><h1>Enter the code</h1><p>We sent a code to the \(kind == .sms ? "phone number" : "address") you entered. It expires in a few minutes.</p>")
        body.raw(
            "<form method=\"post\" action=\"/console/account/contact/confirm\" novalidate>\(csrfField(console))<input type=\"hidden\" name=\"factor\" value=\"\(factorID.lowercasedText)\"><input type=\"hidden\" name=\"kind\" value=\"\(kind.rawValue)\">"
        )
        body.raw(Self.field("code", "Code", errors: errors, autocomplete: "one-time-code", maxLength: 16))
        body.raw("<div class=\"actions\"><button type=\"submit\">Confirm</button></div></form></div>")
        return ConsoleResponse.page(layout(title: "Enter the code", console: console, current: "/console/account", body: body), status: status)
    }

    func backupCodesPage(_ console: ConsoleRequest, codes: [String]) -> Response {
        var body = HTML(
            raw:
                "<div class=\"card\"><h1>Your new backup codes</h1><p>Keep these somewhere safe, away from your devices. Each code works once. <strong>They are shown only now</strong>; the old codes no longer work.</p><ul class=\"codes\" id=\"backup-code-list\">"
        )
        for code in codes {
            body.raw("<li>")
            body.text(code)
            body.raw("</li>")
        }
        body.raw("</ul>")
        let text = "Warden backup codes for \(console.account?.username ?? "your account")\nGenerated \(Self.time(console.now))\nEach code works once.\n\n" + codes.joined(separator: "\n") + "\n"
        let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        body.raw(
            "<div class=\"actions\"><a class=\"button\" download=\"warden-backup-codes.txt\" href=\"data:text/plain;charset=utf-8,\(encoded)\">Download as text</a><a class=\"button secondary\" href=\"/console/account\">I have saved them</a></div></div>"
        )
        return ConsoleResponse.page(layout(title: "Backup codes", console: console, current: "/console/account", body: body))
    }

    func passwordPage(_ console: ConsoleRequest, errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok) -> Response {
        var body = HTML(raw: "<div class=\"card\"><h1>Change password</h1><p class=\"muted\">Your other sessions are signed out when the password changes; this one stays.</p>")
        body.raw("<form method=\"post\" action=\"/console/account/password\" novalidate>\(csrfField(console))")
        body.raw(Self.field("current_password", "Current password", type: "password", errors: errors, autocomplete: "current-password", maxLength: 1024))
        body.raw(Self.field("new_password", "New password", type: "password", errors: errors, hint: "at least 12 characters", autocomplete: "new-password", maxLength: 256))
        body.raw(Self.field("new_password_confirmation", "New password again", type: "password", errors: errors, autocomplete: "new-password", maxLength: 256))
        body.raw("<div class=\"actions\"><button type=\"submit\">Change password</button><a href=\"/console/account\">Cancel</a></div></form></div>")
        return ConsoleResponse.page(layout(title: "Change password", console: console, current: "/console/account", flash: flash, body: body, narrow: true), status: status)
    }

    func sessionsPage(_ console: ConsoleRequest, flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = console.principal!
        let current = principal.session?.sessionHash
        let sessions = try await services.security.ownSessions(principal).sorted {
            ($0.idHash == current ? 0 : 1, -$0.lastActivity.timeIntervalSince1970) < ($1.idHash == current ? 0 : 1, -$1.lastActivity.timeIntervalSince1970)
        }
        var body = HTML(
            raw: "<h1>Sessions</h1><div class=\"card\"><p class=\"muted\">Every place your account is signed in. Sign out any you do not recognise, and change your password if you find one.</p>")
        body.raw("<table id=\"sessions\"><thead><tr><th>Device</th><th>Address</th><th>Signed in</th><th>Last activity</th><th>Strength</th><th></th></tr></thead><tbody>")
        for session in sessions {
            let mine = session.idHash == current
            body.raw("<tr data-session=\"\(session.idHash)\"><td><strong>")
            body.text(Self.deviceName(session.device.userAgent))
            body.raw("</strong>\(mine ? " <span class=\"badge brand\">this device</span>" : "")<br><span class=\"muted mono\">")
            body.text(String(session.device.userAgent.prefix(80)))
            body.raw("</span></td><td class=\"nowrap\">")
            body.text(session.device.address)
            body.raw("</td><td>\(Self.time(session.created))</td><td>\(Self.time(session.lastActivity))</td><td>\(Self.levelBadge(session.level))</td><td>")
            body.raw(
                "<form class=\"inline\" method=\"post\" action=\"/console/account/sessions/revoke\">\(csrfField(console))<input type=\"hidden\" name=\"session\" value=\"\(session.idHash)\"><button class=\"secondary small\" type=\"submit\">\(mine ? "Sign out" : "Revoke")</button></form></td></tr>"
            )
        }
        body.raw("</tbody></table></div><div class=\"card\"><h2>Sign out everywhere</h2><p>Ends every session of your account, this one included.</p>")
        body.raw("<form method=\"post\" action=\"/console/account/sessions/revoke-all\">\(csrfField(console))<button class=\"danger\" type=\"submit\">Sign out everywhere</button></form></div>")
        return ConsoleResponse.page(layout(title: "Sessions", console: console, current: "/console/account/sessions", flash: flash, body: body), status: status)
    }
}
