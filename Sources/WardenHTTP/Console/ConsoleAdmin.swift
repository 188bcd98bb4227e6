import Foundation
import HTTPTypes
import Hummingbird
import WardenAccess
import WardenAudit
import WardenAuth
import WardenCore
import WardenCrypto
import WardenMFA
import WardenSessions

/// The operators' pages: the security dashboard, accounts and the audit log. Each is shown to a caller
/// holding `audit:read`; every action is a use case that checks its own permission again.
extension WardenAPI {
    func addConsoleAdminRoutes(_ router: Router<WardenContext>) {
        console(router, .get, "/console/admin") { console in
            try await dashboardPage(console, flash: console.request.uri.queryParameters.get("done").flatMap(Self.notice).map { [$0] } ?? [])
        }
        consoleForm(router, "/console/admin/rotate", refused: { console, message in try await dashboardPage(console, flash: [.error(message)], status: .badRequest) }) { console, _ in
            do {
                _ = try await services.security.rotateKeys(console.principal!)
                metrics.increment("warden_key_rotations_total", [:])
                return ConsoleResponse.redirect("/console/admin?done=rotated")
            } catch {
                if Self.isOutage(error) { throw error }
                return try await dashboardPage(console, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
        console(router, .get, "/console/admin/accounts") { console in
            try await accountsPage(console, flash: console.request.uri.queryParameters.get("done").flatMap(Self.notice).map { [$0] } ?? [])
        }
        consoleForm(router, "/console/admin/accounts", refused: { console, message in try await accountsPage(console, flash: [.error(message)], status: .badRequest) }) { console, form in
            let query = form.trimmed("q") ?? ""
            let back = "/console/admin/accounts?done=account-updated&q=" + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            do {
                guard let id = form["account"].flatMap({ UUID(text: $0) }) else { throw APIError.notFound }
                let security = services.security
                let principal = console.principal!
                let target = try await security.target(id: id)
                switch form["action"] ?? "" {
                case "unlock":
                    _ = try await security.unlock(target, principal)
                    try await security.clearMFALock(of: target, principal)
                case "disable": _ = try await security.disable(target, principal)
                case "enable": _ = try await security.enable(target, principal)
                case "reset-mfa": try await security.resetMFA(of: target, principal)
                case "grant": try await security.grantRole(form.trimmed("role") ?? "", to: target, principal)
                case "revoke": _ = try await security.revokeRole(form.trimmed("role") ?? "", from: target, principal)
                default: throw ConsoleFormRefusal(message: "Choose an action.")
                }
                return ConsoleResponse.redirect(back)
            } catch {
                if Self.isOutage(error) { throw error }
                return try await accountsPage(console, query: query, flash: [.error(Self.message(error))], status: APIError.from(error).status)
            }
        }
        console(router, .get, "/console/admin/audit") { console in try await auditPage(console) }
    }

    /// 403 as a page for a caller without the operators' permission.
    func requireOperator(_ console: ConsoleRequest) throws {
        guard console.isOperator else { throw AuthError(.forbidden, "these pages are for operators (the audit:read permission)") }
    }

    // MARK: Dashboard

    func dashboardPage(_ console: ConsoleRequest, flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        try requireOperator(console)
        let principal = console.principal!
        let readiness = await readiness()
        let checks = postureChecks(readiness: readiness)
        let passed = checks.filter(\.passed).count
        let rating = passed == checks.count ? "strong" : Double(passed) / Double(checks.count) >= 0.75 ? "fair" : "weak"
        var body = HTML(
            raw:
                "<h1>Security</h1><div class=\"grid\"><div class=\"card\"><h2>Posture</h2><p class=\"stat rating-\(rating)\" id=\"rating\">\(rating)</p><p class=\"muted\">\(passed) of \(checks.count) checks pass</p><table><tbody>"
        )
        for check in checks {
            body.raw("<tr><td>\(check.passed ? "<span class=\"badge ok\">pass</span>" : "<span class=\"badge bad\">fail</span>")</td><td>")
            body.text(check.detail)
            body.raw("</td></tr>")
        }
        body.raw("</tbody></table></div>")

        // Activity over the last 24 hours, from the audit log.
        let entries = (try? await services.security.auditLog(limit: 1000, reader: services.auditReader, principal)) ?? []
        let now = console.now
        var signIns = [Int](repeating: 0, count: 24)
        var failures = [Int](repeating: 0, count: 24)
        for entry in entries {
            let age = now.timeIntervalSince(entry.event.time)
            guard age >= 0, age < 86_400 else { continue }
            let bucket = 23 - Int(age / 3_600)
            switch entry.event.action {
            case "session.created": signIns[bucket] += 1
            case "login.failed": failures[bucket] += 1
            default: break
            }
        }
        body.raw(
            "<div class=\"card\"><h2>Last 24 hours</h2><p><span class=\"stat\">\(signIns.reduce(0, +))</span> sessions started · <span class=\"stat\">\(failures.reduce(0, +))</span> failed sign-ins</p>"
        )
        body.raw(
            "<div class=\"chart\">\(Self.barChart(signIns, color: "#1f4fd1", label: "Sessions started per hour"))</div><div class=\"chart\">\(Self.barChart(failures, color: "#b3261e", label: "Failed sign-ins per hour"))</div>"
        )
        body.raw("<p class=\"muted\">Per hour, oldest on the left; from the latest 1,000 audit entries.</p></div></div>")

        body.raw("<div class=\"card\" id=\"keys\"><h2>Field-encryption keys</h2>")
        do {
            let keyring = try await services.security.keyring(principal)
            let period = services.cipher.configuration.policy.rotationPeriod
            let primary = keyring.primary
            let next = primary.created.addingTimeInterval(period)
            body.raw(
                "<p>Primary version <strong id=\"primary-version\">\(primary.version)</strong>, \(Int(now.timeIntervalSince(primary.created) / 86_400)) days old. Next rotation due \(Self.time(next)) (every \(Int(period / 86_400)) days).</p>"
            )
            body.raw("<table><thead><tr><th>Version</th><th>State</th><th>Created</th><th>Age</th><th>Seals</th></tr></thead><tbody>")
            for version in keyring.versions.sorted(by: { $0.version > $1.version }) {
                let badge = version.state == .primary ? "ok" : version.state == .active ? "brand" : ""
                body.raw(
                    "<tr><td>\(version.version)</td><td><span class=\"badge \(badge)\">\(version.state.rawValue)</span></td><td>\(Self.time(version.created))</td><td>\(Int(now.timeIntervalSince(version.created) / 86_400)) d</td><td>\(version.sealCount)</td></tr>"
                )
            }
            body.raw(
                "</tbody></table><form method=\"post\" action=\"/console/admin/rotate\">\(csrfField(console))<div class=\"actions\"><button type=\"submit\">Rotate now</button><span class=\"muted\">A new version becomes primary; older ones keep decrypting.</span></div></form>"
            )
        } catch {
            if Self.isOutage(error) { throw error }
            body.raw("<p class=\"muted\">Your account may not read the keyring (keys:read).</p>")
        }
        body.raw("</div>")
        return ConsoleResponse.page(layout(title: "Security", console: console, current: "/console/admin", flash: flash, body: body), status: status)
    }

    /// `account:d19c703a…` with the whole identifier in its tooltip: the table stays readable.
    static func shortIdentifier(_ text: String) -> String {
        guard text.utf8.count > 24, let colon = text.firstIndex(of: ":") else { return text.html }
        let shown = String(text[...colon]) + String(text[text.index(after: colon)...].prefix(8)) + "…"
        return "<span title=\"\(text.html)\">\(shown.html)</span>"
    }

    /// A small bar chart, drawn here as SVG (no script, no library).
    static func barChart(_ values: [Int], color: String, label: String) -> String {
        let width = 480
        let height = 90
        let gap = 2
        let barWidth = (width - gap * (values.count - 1)) / values.count
        let top = max(1, values.max() ?? 1)
        var svg = "<svg viewBox=\"0 0 \(width) \(height + 16)\" role=\"img\" aria-label=\"\(label.html)\"><title>\(label.html)</title>"
        svg += "<line x1=\"0\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\" stroke=\"#d9dee7\"/>"
        for (index, value) in values.enumerated() {
            let barHeight = value == 0 ? 0 : max(2, value * (height - 14) / top)
            let x = index * (barWidth + gap)
            svg += "<rect x=\"\(x)\" y=\"\(height - barHeight)\" width=\"\(barWidth)\" height=\"\(barHeight)\" rx=\"2\" fill=\"\(color)\"><title>\(value)</title></rect>"
        }
        svg +=
            "<text x=\"0\" y=\"\(height + 13)\" font-size=\"11\" fill=\"#5b6575\">24 h ago</text><text x=\"\(width)\" y=\"\(height + 13)\" font-size=\"11\" fill=\"#5b6575\" text-anchor=\"end\">now · peak \(top)</text></svg>"
        return svg
    }

    // MARK: Accounts

    func accountsPage(_ console: ConsoleRequest, query: String? = nil, flash: [Flash] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        try requireOperator(console)
        let query = query ?? console.request.uri.queryParameters.get("q").map { String($0.prefix(64)) } ?? ""
        var body = HTML(
            raw:
                "<h1>Accounts</h1><div class=\"card\"><form method=\"get\" action=\"/console/admin/accounts\"><label for=\"q\">Find accounts</label><div class=\"actions\"><input type=\"search\" id=\"q\" name=\"q\" maxlength=\"64\" value=\"\(query.html)\" placeholder=\"part of a username\"><button type=\"submit\">Search</button></div></form></div>"
        )
        let found: [(Account, [String])]
        do {
            found = try await services.security.searchAccounts(query, limit: 50, console.principal!)
        } catch {
            if Self.isOutage(error) { throw error }
            body.raw("<div class=\"card\"><p>\(Self.message(error).html)</p></div>")
            return ConsoleResponse.page(layout(title: "Accounts", console: console, current: "/console/admin/accounts", flash: flash, body: body), status: APIError.from(error).status)
        }
        body.raw("<div class=\"card\"><table id=\"accounts\"><thead><tr><th>Username</th><th>Status</th><th>Roles</th><th>Created</th><th>Actions</th></tr></thead><tbody>")
        if found.isEmpty { body.raw("<tr><td colspan=\"5\" class=\"muted\">No account matches.</td></tr>") }
        for (account, roles) in found {
            let status =
                account.status == .disabled
                ? "<span class=\"badge bad\">disabled</span>"
                : account.lockedUntil.map { $0 > console.now } == true ? "<span class=\"badge warn\">locked</span>" : "<span class=\"badge ok\">active</span>"
            body.raw("<tr><td><strong>")
            body.text(account.username)
            body.raw("</strong><br><span class=\"muted mono\">\(account.id.lowercasedText)</span></td><td>\(status)</td><td>")
            body.text(roles.isEmpty ? "—" : roles.joined(separator: ", "))
            body.raw("</td><td>\(Self.time(account.created))</td><td>")
            func action(_ name: String, _ label: String, _ style: String = "secondary", role: String? = nil) {
                body.raw(
                    "<form class=\"inline\" method=\"post\" action=\"/console/admin/accounts\">\(csrfField(console))<input type=\"hidden\" name=\"account\" value=\"\(account.id.lowercasedText)\"><input type=\"hidden\" name=\"action\" value=\"\(name)\"><input type=\"hidden\" name=\"q\" value=\"\(query.html)\">"
                )
                if let role { body.raw("<input type=\"hidden\" name=\"role\" value=\"\(role.html)\">") }
                body.raw("<button class=\"\(style) small\" type=\"submit\">\(label.html)</button></form> ")
            }
            action("unlock", "Unlock")
            if account.status == .disabled { action("enable", "Enable") } else { action("disable", "Disable", "danger") }
            action("reset-mfa", "Reset MFA", "danger")
            for role in roles { action("revoke", "Remove \(role)", role: role) }
            body.raw(
                "<form class=\"inline\" method=\"post\" action=\"/console/admin/accounts\">\(csrfField(console))<input type=\"hidden\" name=\"account\" value=\"\(account.id.lowercasedText)\"><input type=\"hidden\" name=\"action\" value=\"grant\"><input type=\"hidden\" name=\"q\" value=\"\(query.html)\"><input type=\"text\" name=\"role\" aria-label=\"Role to grant\" placeholder=\"role\" maxlength=\"64\"> <button class=\"secondary small\" type=\"submit\">Grant</button></form>"
            )
            body.raw("</td></tr>")
        }
        body.raw("</tbody></table><p class=\"muted\">At most 50 accounts are shown; refine the search to find others.</p></div>")
        return ConsoleResponse.page(layout(title: "Accounts", console: console, current: "/console/admin/accounts", flash: flash, body: body), status: status)
    }

    // MARK: Audit log

    func auditPage(_ console: ConsoleRequest) async throws -> Response {
        try requireOperator(console)
        let parameters = console.request.uri.queryParameters
        let action = parameters.get("action").map { String($0.prefix(64)) }.flatMap { $0.isEmpty ? nil : $0 }
        let actor = parameters.get("actor").map { String($0.prefix(128)) }.flatMap { $0.isEmpty ? nil : $0 }
        let page = max(1, min(20, parameters.get("page").flatMap { Int($0) } ?? 1))
        let entries = try await services.security.auditLog(limit: 1000, reader: services.auditReader, console.principal!)
        let filtered = entries.filter { entry in
            (action.map { entry.event.action.hasPrefix($0) } ?? true) && (actor.map { entry.event.actor.contains($0) || (entry.event.subject?.contains($0) ?? false) } ?? true)
        }.sorted { $0.sequence > $1.sequence }
        let pageSize = 50
        let shown = filtered.dropFirst((page - 1) * pageSize).prefix(pageSize)
        var body = HTML(raw: "<h1>Audit log</h1><div class=\"card\"><form method=\"get\" action=\"/console/admin/audit\" class=\"actions\">")
        body.raw("<input type=\"text\" name=\"action\" aria-label=\"Action starts with\" placeholder=\"action, e.g. login.\" maxlength=\"64\" value=\"\((action ?? "").html)\">")
        body.raw("<input type=\"text\" name=\"actor\" aria-label=\"Actor or subject contains\" placeholder=\"actor or subject\" maxlength=\"128\" value=\"\((actor ?? "").html)\">")
        body.raw("<button type=\"submit\">Filter</button><a class=\"button secondary\" href=\"/console/admin/audit?verify=1\">Verify the chain</a></form>")
        if parameters.get("verify") == "1" {
            if let verify = services.auditVerifier {
                let result = try await verify()
                switch result {
                case .intact(let count): body.raw("<div class=\"flash ok\" id=\"chain\">The chain is intact: \(count) entries link, hash and authenticate.</div>")
                case .broken(let sequence, let reason):
                    body.raw("<div class=\"flash error\" id=\"chain\">The chain is broken at entry \(sequence): ")
                    body.text(reason)
                    body.raw("</div>")
                }
            } else {
                body.raw("<div class=\"flash info\" id=\"chain\">Chain verification is not available here; run `warden audit verify`.</div>")
            }
        }
        body.raw(
            "</div><div class=\"card\"><div class=\"scroll\"><table id=\"audit\" class=\"dense\"><thead><tr><th>#</th><th>Time</th><th>Action</th><th>Outcome</th><th>Actor</th><th>Subject</th><th>Address</th></tr></thead><tbody>"
        )
        for entry in shown {
            let outcome = entry.event.outcome.rawValue
            body.raw("<tr><td>\(entry.sequence)</td><td class=\"nowrap\">\(Self.time(entry.event.time))</td><td class=\"nowrap\"><code>")
            body.text(entry.event.action)
            body.raw("</code></td><td><span class=\"badge \(outcome == "success" ? "ok" : outcome == "failure" || outcome == "denied" ? "bad" : "")\">")
            body.text(outcome)
            body.raw(
                "</span></td><td class=\"nowrap\">\(Self.shortIdentifier(entry.event.actor))</td><td class=\"nowrap\">\(Self.shortIdentifier(entry.event.subject ?? "—"))</td><td class=\"nowrap\">")
            body.text(entry.event.sourceAddress ?? "—")
            body.raw("</td></tr>")
        }
        if shown.isEmpty { body.raw("<tr><td colspan=\"7\" class=\"muted\">No entry matches.</td></tr>") }
        body.raw("</tbody></table></div><div class=\"pager\">")
        func link(_ number: Int, _ label: String) -> String {
            var query = "page=\(number)"
            if let action { query += "&action=" + (action.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
            if let actor { query += "&actor=" + (actor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
            return "<a href=\"/console/admin/audit?\(query.html)\">\(label)</a>"
        }
        if page > 1 { body.raw(link(page - 1, "← Newer")) }
        body.raw("<span class=\"muted\">Page \(page) · \(filtered.count) matching of the latest \(entries.count) entries</span>")
        if page * pageSize < filtered.count { body.raw(link(page + 1, "Older →")) }
        body.raw("</div></div>")
        return ConsoleResponse.page(layout(title: "Audit log", console: console, current: "/console/admin/audit", body: body))
    }
}
