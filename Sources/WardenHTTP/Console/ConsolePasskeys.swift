import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WardenAuth
import WardenCore
import WardenMFA
import WardenSessions

/// Passkeys in the console: passwordless sign-in, a passkey as the second factor, and the caller's
/// passkeys (register, rename, remove). The ceremonies need the console's script; everything else is
/// plain forms.
extension WardenAPI {
    func addConsolePasskeyRoutes(_ router: Router<WardenContext>) {
        consoleForm(router, "/console/sign-in/passkey", signedIn: false, refused: { console, message in try await signInPage(console, flash: [.error(message)], status: .badRequest) }) {
            console, form in
            guard let ceremony = form["ceremony"], let credential = form["credential"], !credential.isEmpty, credential.utf8.count <= 65_536 else {
                return try await signInPage(console, flash: [.error("The passkey did not answer. Try again.")], status: .badRequest)
            }
            do {
                let signedIn = try await services.security.signInWithPasskey(
                    token: String(ceremony.prefix(256)), credential: Array(credential.utf8), device: console.device, context: console.context.audit)
                metrics.increment("warden_logins_total", ["outcome": "success"])
                return signedInResponse(signedIn)
            } catch {
                if Self.isOutage(error) { throw error }
                metrics.increment("warden_logins_total", ["outcome": "failure"])
                let message = APIError.from(error).code == "invalid_credentials" ? "That passkey was not accepted. Use another, or sign in with your password." : Self.message(error)
                return try await signInPage(console, flash: [.error(message)], status: APIError.from(error).status)
            }
        }
        console(router, .get, "/console/account/passkeys") { console in
            try await passkeysPage(console, flash: console.request.uri.queryParameters.get("done").flatMap(Self.notice).map { [$0] } ?? [])
        }
        consoleForm(router, "/console/account/passkeys", refused: { console, message in try await passkeysPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let name = form.trimmed("name") ?? "Passkey"
            guard let ceremony = form["ceremony"], let credential = form["credential"], !credential.isEmpty, credential.utf8.count <= 65_536 else {
                return try await passkeysPage(console, flash: [.error("The passkey was not created. Try again.")], status: .badRequest)
            }
            do {
                _ = try await services.security.registerPasskey(token: String(ceremony.prefix(256)), credential: Array(credential.utf8), name: name, proof: Self.proof(form), console.principal!)
                return ConsoleResponse.redirect("/console/account/passkeys?done=passkey-added")
            } catch {
                if Self.isOutage(error) { throw error }
                return try await passkeysPage(console, name: name, errors: Self.proofErrors(error, fallback: "name"), status: APIError.from(error).status)
            }
        }
        consoleForm(router, "/console/account/passkeys/rename", refused: { console, message in try await passkeysPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            do {
                guard let id = form["passkey"].flatMap({ UUID(text: $0) }) else { throw APIError.notFound }
                try await services.security.renamePasskey(id, to: form["name"] ?? "", console.principal!)
                return ConsoleResponse.redirect("/console/account/passkeys?done=passkey-renamed")
            } catch {
                if Self.isOutage(error) { throw error }
                return try await passkeysPage(console, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
        consoleForm(router, "/console/account/passkeys/remove", refused: { console, message in try await passkeysPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            do {
                guard let id = form["passkey"].flatMap({ UUID(text: $0) }) else { throw APIError.notFound }
                try await services.security.removePasskey(id, proof: Self.proof(form), console.principal!)
                return ConsoleResponse.redirect("/console/account/passkeys?done=passkey-removed")
            } catch {
                if Self.isOutage(error) { throw error }
                return try await passkeysPage(console, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
    }

    /// A form whose submit runs a WebAuthn ceremony (`get` or `create`) with `options`, then posts the
    /// credential in `credential`.
    func ceremonyForm(_ console: ConsoleRequest, action: String, kind: String, options: [String: Any], hidden: [String: String], fields: String = "", button: String, buttonClass: String = "")
        -> String
    {
        var buffer = ByteBuffer()
        JSONWriter.write(options, into: &buffer)
        var html =
            "<form method=\"post\" action=\"\(action)\" data-webauthn=\"\(kind)\" data-options=\"\(String(buffer: buffer).html)\">\(csrfField(console))<input type=\"hidden\" name=\"credential\" value=\"\">"
        for (name, value) in hidden.sorted(by: { $0.key < $1.key }) { html += "<input type=\"hidden\" name=\"\(name)\" value=\"\(value.html)\">" }
        html += fields
        html += "<div class=\"actions\"><button class=\"js-only \(buttonClass)\" type=\"submit\">\(button)</button><span class=\"muted\" data-status aria-live=\"polite\"></span></div></form>"
        return html
    }

    /// The passwordless sign-in form (empty when passkeys are off).
    func passkeySignInForm(_ console: ConsoleRequest) async throws -> String {
        guard services.security.mfa.relyingParty != nil else { return "" }
        let ceremony = try services.security.beginPasskeySignIn()
        return "<div class=\"divider\">or</div>"
            + ceremonyForm(
                console, action: "/console/sign-in/passkey", kind: "get", options: ceremony.options, hidden: ["ceremony": ceremony.token],
                button: "Sign in with a passkey", buttonClass: "secondary") + "<noscript><p class=\"muted\">Signing in with a passkey needs JavaScript.</p></noscript>"
    }

    /// The passkey option of a login challenge.
    func passkeyFactorForm(_ console: ConsoleRequest, challenge: String, methods: [MFAService.Method]) async -> String {
        guard let options = try? await services.security.passkeyChallengeOptions(token: challenge, device: console.device) else { return "" }
        return ceremonyForm(
            console, action: "/console/sign-in/factor", kind: "get", options: options,
            hidden: ["challenge": challenge, "methods": methods.map(\.rawValue).joined(separator: ","), "method": "passkey"], button: "Use a passkey")
    }

    func passkeysPage(_ console: ConsoleRequest, name: String? = nil, errors: FieldErrors = [:], flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = console.principal!
        let passkeys = try await services.security.ownPasskeys(principal)
        let methods = try await services.security.mfa.methods(accountID: principal.accountID!)
        var body = HTML(
            raw:
                "<h1>Passkeys</h1><div class=\"card\"><p>A passkey signs you in with your device's screen lock or a security key instead of a password. It cannot be phished: it only works on this site.</p>"
        )
        if passkeys.isEmpty {
            body.raw("<p class=\"muted\">You have no passkeys yet.</p>")
        } else {
            body.raw("<table id=\"passkeys\"><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th>Synced</th><th></th></tr></thead><tbody>")
            for passkey in passkeys {
                body.raw("<tr><td><strong>")
                body.text(passkey.name)
                body.raw("</strong>")
                if passkey.flagged != nil { body.raw(" <span class=\"badge bad\">blocked: its counter went backwards</span>") }
                body.raw("<br><span class=\"muted mono\">\(passkey.algorithm == -7 ? "ES256" : passkey.algorithm == -8 ? "EdDSA" : "RS256") · \(passkey.attestationFormat.html)</span></td>")
                body.raw("<td>\(Self.time(passkey.created))</td><td>\(Self.time(passkey.lastUsed))</td>")
                body.raw(
                    "<td>\(passkey.backupEligible ? (passkey.backedUp ? "<span class=\"badge ok\">synced</span>" : "<span class=\"badge\">can sync</span>") : "<span class=\"badge\">this device only</span>")</td><td>"
                )
                body.raw(
                    "<form class=\"inline\" method=\"post\" action=\"/console/account/passkeys/rename\">\(csrfField(console))<input type=\"hidden\" name=\"passkey\" value=\"\(passkey.id.lowercasedText)\"><input type=\"text\" name=\"name\" aria-label=\"New name\" maxlength=\"64\" value=\"\(passkey.name.html)\"> <button class=\"secondary small\" type=\"submit\">Rename</button></form> "
                )
                body.raw(
                    "<form class=\"inline\" method=\"post\" action=\"/console/account/passkeys/remove\">\(csrfField(console))<input type=\"hidden\" name=\"passkey\" value=\"\(passkey.id.lowercasedText)\">"
                )
                if !verifiedRecently(console) {
                    body.raw(
                        methods.isEmpty
                            ? "<input type=\"password\" name=\"current_password\" aria-label=\"Current password\" placeholder=\"current password\" maxlength=\"1024\">"
                            : "<input type=\"hidden\" name=\"proof_method\" value=\"totp\"><input type=\"text\" name=\"code\" aria-label=\"Code\" placeholder=\"code to confirm\" maxlength=\"64\" autocomplete=\"one-time-code\">"
                    )
                }
                body.raw(" <button class=\"danger small\" type=\"submit\">Remove</button></form></td></tr>")
            }
            body.raw("</tbody></table>")
        }
        body.raw("</div><div class=\"card\"><h2>Add a passkey</h2>")
        if services.security.mfa.relyingParty == nil {
            body.raw("<p class=\"muted\">Passkeys are not configured on this server (WARDEN_WEBAUTHN_RP_ID).</p></div>")
        } else {
            let ceremony = try await services.security.beginPasskeyRegistration(principal)
            let fields =
                Self.field("name", "Name", value: name ?? "Passkey", errors: errors, hint: "so you can tell your passkeys apart", maxLength: 64)
                + proofFields(console, methods: methods, errors: errors)
            body.raw(
                ceremonyForm(console, action: "/console/account/passkeys", kind: "create", options: ceremony.options, hidden: ["ceremony": ceremony.token], fields: fields, button: "Add a passkey"))
            body.raw("<noscript><p class=\"muted\">Adding a passkey needs JavaScript.</p></noscript></div>")
        }
        return ConsoleResponse.page(layout(title: "Passkeys", console: console, current: "/console/account/passkeys", flash: flash, body: body), status: status)
    }
}
