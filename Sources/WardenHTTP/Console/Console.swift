import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WardenAccess
import WardenAuth
import WardenCore
import WardenSessions

/// One console request: who is asking (from the session cookies), the cookies to set on the answer, and
/// what its forms' tokens are bound to.
struct ConsoleRequest {
    let request: Request
    var context: WardenContext
    /// The signed-in caller, if the cookies name a live session.
    var principal: Principal?
    var account: Account?
    /// Whether the caller may see the operator pages.
    var isOperator = false
    var cookies: [String] = []
    /// What form tokens are bound to: the session (signed in) or the visitor cookie.
    var binding: String
    var now: Date

    var device: Device {
        Device(userAgent: request.headers[.userAgent] ?? "", address: context.clientAddress)
    }
}

/// A message shown at the top of a page.
struct Flash {
    enum Kind: String { case ok, error, info, warn }
    let kind: Kind
    let text: String

    static func ok(_ text: String) -> Flash { Flash(kind: .ok, text: text) }
    static func error(_ text: String) -> Flash { Flash(kind: .error, text: text) }
    static func info(_ text: String) -> Flash { Flash(kind: .info, text: text) }
}

/// Errors next to the fields they concern.
typealias FieldErrors = [String: String]

/// A form that was refused before any use case ran (token, origin, shape): the page is shown again with
/// this message.
struct ConsoleFormRefusal: Error {
    let message: String
}

extension WardenAPI {
    /// Adds a console page. Every error becomes a page (never JSON, never a stack trace): the caller is
    /// sent to sign in when the session is gone, and an unreachable store answers 503 with a page.
    func console(
        _ router: Router<WardenContext>, _ method: HTTPRequest.Method, _ path: String, signedIn: Bool = true,
        _ handler: @escaping @Sendable (inout ConsoleRequest) async throws -> Response
    ) {
        on(router, method, path) { request, context in
            var console: ConsoleRequest
            do {
                console = try await consoleRequest(request, context)
            } catch {
                return consoleError(error, nil)
            }
            if signedIn, console.principal == nil {
                return ConsoleResponse.redirect("/console/sign-in", cookies: console.cookies + ConsoleCookie.clearAll)
            }
            do {
                var response = try await handler(&console)
                for cookie in console.cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
                return response
            } catch {
                return consoleError(error, console)
            }
        }
    }

    /// Adds a console form (POST). Every form is read through ``readForm(_:)`` — same origin, a valid and
    /// unused token bound to this browser, a well-formed body — before `handler` sees it; a refused form
    /// answers `refused` with the message (the page again, 400), and changes nothing.
    func consoleForm(
        _ router: Router<WardenContext>, _ path: String, signedIn: Bool = true,
        refused: @escaping @Sendable (ConsoleRequest, String) async throws -> Response,
        _ handler: @escaping @Sendable (inout ConsoleRequest, FormBody) async throws -> Response
    ) {
        console(router, .post, path, signedIn: signedIn) { console in
            let form: FormBody
            do { form = try await readForm(console) } catch let refusal as ConsoleFormRefusal {
                return try await refused(console, refusal.message)
            }
            return try await handler(&console, form)
        }
    }

    /// Reads the session cookies: a valid access token; or, once it has expired, the refresh token
    /// exchanged for new ones (set on the answer). Anything else is a visitor.
    func consoleRequest(_ request: Request, _ context: WardenContext) async throws -> ConsoleRequest {
        let now = services.clock.now()
        var console = ConsoleRequest(request: request, context: context, binding: "", now: now)
        var access = ConsoleCookie.value(request, ConsoleCookie.access)
        if access != nil {
            var principal: Principal?
            do {
                principal = try await services.security.authenticate(accessToken: access!, context: context.audit)
            } catch  where !Self.isOutage(error) {
                principal = nil
            }
            if principal == nil, let refresh = ConsoleCookie.value(request, ConsoleCookie.refresh) {
                do {
                    let issued = try await services.security.refresh(refreshToken: refresh, context: context.audit)
                    console.cookies += ConsoleCookie.issued(issued)
                    access = issued.accessToken
                    principal = try await services.security.authenticate(accessToken: issued.accessToken, context: context.audit)
                } catch  where !Self.isOutage(error) {
                    principal = nil
                }
            }
            if let principal, let session = principal.session {
                console.principal = principal
                console.context.caller = principal
                console.binding = "session:" + session.sessionHash
                console.account = try await services.security.callerAccount(principal)
                console.isOperator = await services.security.holds("audit:read", principal)
                return console
            }
            console.cookies += ConsoleCookie.clearAll
        }
        if let visitor = ConsoleCookie.value(request, ConsoleCookie.visitor), visitor.utf8.count == 43 {
            console.binding = "visitor:" + visitor
        } else {
            let visitor = Base64.encode((0..<32).map { _ in UInt8.random(in: 0...255) }, alphabet: .url, padded: false)
            console.cookies.append(ConsoleCookie.set(ConsoleCookie.visitor, visitor, maxAge: 86_400))
            console.binding = "visitor:" + visitor
        }
        return console
    }

    var consoleForms: ConsoleForms { ConsoleForms(key: services.consoleKey, limiter: services.limiter) }

    /// A fresh form token for the page being rendered.
    func formToken(_ console: ConsoleRequest) -> String {
        consoleForms.token(binding: console.binding, now: console.now)
    }

    /// The hidden field every state-changing form carries.
    func csrfField(_ console: ConsoleRequest) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(formToken(console))\">"
    }

    /// Reads a submitted form: same origin (the `Origin` header, or `Sec-Fetch-Site: same-origin`), a valid,
    /// unused form token bound to this browser, a well-formed body.
    func readForm(_ console: ConsoleRequest) async throws -> FormBody {
        guard sameOrigin(console.request) else {
            throw ConsoleFormRefusal(message: "This form was sent from another site and was refused. Submit it again from this page.")
        }
        let form: FormBody
        do {
            form = try await FormBody.read(console.request)
        } catch .tooLarge {
            throw ConsoleFormRefusal(message: "The form was too large. Shorten what you typed and submit it again.")
        } catch {
            throw ConsoleFormRefusal(message: "The form could not be read. Submit it again from this page.")
        }
        do {
            try await consoleForms.redeem(form["csrf"], binding: console.binding, now: console.now)
        } catch .expired {
            throw ConsoleFormRefusal(message: "This page was open too long and its form expired. Submit it again.")
        } catch .reused {
            throw ConsoleFormRefusal(message: "This form was already submitted once. Check the result, or submit it again from this page.")
        } catch .unavailable {
            throw APIError.unavailable
        } catch {
            throw ConsoleFormRefusal(message: "The form's security token was missing or not valid for this browser. Submit it again from this page.")
        }
        return form
    }

    /// `Origin` names this server (its scheme and `Host`), or the browser says the request is same-origin.
    func sameOrigin(_ request: Request) -> Bool {
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority else { return false }
            return origin == "https://" + host || (!configuration.tls && origin == "http://" + host)
        }
        return request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "same-origin"
    }

    /// An error outside any form: sign in again, a 503 page, or a short message page.
    func consoleError(_ error: any Error, _ console: ConsoleRequest?) -> Response {
        let failure = APIError.from(error)
        if failure.status == .unauthorized, failure.code == "invalid_token" {
            return ConsoleResponse.redirect("/console/sign-in", cookies: (console?.cookies ?? []) + ConsoleCookie.clearAll)
        }
        let status: HTTPResponse.Status = failure.status.code >= 500 ? .serviceUnavailable : failure.status
        var body = HTML()
        body.raw("<div class=\"card\"><h1>")
        body.text(status == .serviceUnavailable ? "Warden is unavailable" : status == .notFound ? "Not found" : status == .forbidden ? "Not allowed" : "That did not work")
        body.raw("</h1><p>")
        body.text(status == .serviceUnavailable ? "Warden cannot reach a service it depends on right now. Nothing was changed; try again in a moment." : Self.sentence(failure.message))
        body.raw("</p><p><a href=\"/console\">Back to the console</a></p></div>")
        return ConsoleResponse.page(layout(title: "Error", console: console, current: nil, body: body), status: status, cookies: console?.cookies ?? [])
    }

    /// A use case's refusal as a sentence to show on the form.
    static func message(_ error: any Error) -> String {
        if let refusal = error as? ConsoleFormRefusal { return refusal.message }
        let failure = APIError.from(error)
        if failure.code == "invalid_credentials" { return "The username or password is not correct." }
        if failure.code == "invalid_code" { return "That code is not correct, or it has expired." }
        if let retry = failure.retryAfter, failure.status.code == 429 || failure.status.code == 423 {
            return sentence(failure.message) + " Try again in \(Int(retry.rounded(.up))) seconds."
        }
        return sentence(failure.message)
    }

    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        let body = first.uppercased() + text.dropFirst()
        return body.hasSuffix(".") ? body : body + "."
    }

    /// Whether an error must become a page of its own (the store is down) rather than a message on the form.
    static func isOutage(_ error: any Error) -> Bool {
        APIError.from(error).status.code >= 500 && APIError.from(error).code != "delivery_failed"
    }

    // MARK: Layout

    /// The whole page around `body`: header with the navigation of a signed-in caller, flash messages.
    func layout(title: String, console: ConsoleRequest?, current: String?, flash: [Flash] = [], body: HTML, narrow: Bool = false) -> String {
        var page = HTML(raw: "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        page.raw("<title>")
        page.text(title + " · Warden")
        page.raw("</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\"><script src=\"/console/assets/console.js\" defer></script></head><body><header><div class=\"bar\">")
        page.raw("<a class=\"brand\" href=\"/console\">\(Self.logo)Warden</a>")
        if let console, console.principal != nil {
            page.raw("<nav>")
            var items = [("/console/account", "Account"), ("/console/account/sessions", "Sessions"), ("/console/account/passkeys", "Passkeys")]
            if console.isOperator {
                items += [("/console/admin", "Security"), ("/console/admin/accounts", "Accounts"), ("/console/admin/audit", "Audit log")]
            }
            for (href, label) in items {
                page.raw("<a href=\"\(href)\"\(href == current ? " class=\"current\" aria-current=\"page\"" : "")>\(label)</a>")
            }
            page.raw("</nav><span class=\"who\">")
            page.text(console.account?.username ?? "")
            page.raw("</span><form method=\"post\" action=\"/console/sign-out\">\(csrfField(console))<button class=\"link\" type=\"submit\">Sign out</button></form>")
        }
        page.raw("</div></header><main\(narrow ? " class=\"narrow\"" : "")>")
        for item in flash {
            page.raw("<div class=\"flash \(item.kind.rawValue)\" role=\"\(item.kind == .error ? "alert" : "status")\">")
            page.text(item.text)
            page.raw("</div>")
        }
        page.append(body)
        page.raw("</main><footer>Warden · field encryption, sign-in and sessions you can see and revoke</footer></body></html>")
        return page.text
    }

    static let logo =
        "<svg width=\"22\" height=\"22\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 2 4 5v6c0 5 3.4 9.3 8 11 4.6-1.7 8-6 8-11V5l-8-3z\" fill=\"#7ea2ff\"/><path d=\"m8.5 12 2.5 2.5 4.5-5\" stroke=\"#111a2e\" stroke-width=\"2\" fill=\"none\"/></svg>"

    /// A labelled input with its error beneath. Password fields never carry a value back.
    static func field(
        _ name: String, _ label: String, type: String = "text", value: String? = nil, errors: FieldErrors, hint: String? = nil, autocomplete: String? = nil, required: Bool = true, maxLength: Int = 256
    ) -> String {
        var html = HTML(raw: "<label for=\"\(name)\">")
        html.text(label)
        if let hint {
            html.raw(" <span class=\"hint\">")
            html.text(hint)
            html.raw("</span>")
        }
        html.raw("</label><input id=\"\(name)\" name=\"\(name)\" type=\"\(type)\" maxlength=\"\(maxLength)\"")
        if let autocomplete { html.raw(" autocomplete=\"\(autocomplete)\"") }
        if required { html.raw(" required") }
        if type != "password", let value {
            html.raw(" value=\"")
            html.text(value)
            html.raw("\"")
        }
        if let error = errors[name] {
            html.raw(" class=\"invalid\" aria-invalid=\"true\" aria-describedby=\"\(name)-error\"><p class=\"field-error\" id=\"\(name)-error\">")
            html.text(error)
            html.raw("</p>")
        } else {
            html.raw(">")
        }
        return html.text
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let text = JSONResponse.timestamp(date)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }

    static func deviceName(_ userAgent: String) -> String {
        let agent = userAgent.lowercased()
        let browser =
            agent.contains("edg/")
            ? "Edge"
            : agent.contains("chrome") || agent.contains("chromium")
                ? "Chrome"
                : agent.contains("firefox")
                    ? "Firefox"
                    : agent.contains("safari") ? "Safari" : agent.contains("curl") ? "curl" : agent.contains("python") ? "Python client" : agent.isEmpty ? "Unknown client" : "Other client"
        let system =
            agent.contains("windows")
            ? "Windows"
            : agent.contains("android")
                ? "Android"
                : agent.contains("iphone") || agent.contains("ipad")
                    ? "iOS"
                    : agent.contains("mac os") ? "macOS" : agent.contains("linux") ? "Linux" : nil
        return system.map { "\(browser) on \($0)" } ?? browser
    }
}

extension AccountSecurity {
    /// Whether the principal holds `permission` now (for showing pages; each use case checks again).
    func holds(_ permission: String, _ principal: Principal) async -> Bool {
        do {
            try await require(permission, principal)
            return true
        } catch { return false }
    }
}
