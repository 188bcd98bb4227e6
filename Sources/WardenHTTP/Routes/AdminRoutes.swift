import Foundation
import Hummingbird
import WardenAccess
import WardenAudit
import WardenAuth
import WardenCore
import WardenSessions

struct CreateAccountBody: Decodable {
    let username: String
    let password: String?
    let email: String?
    let phone: String?
}

struct GrantBody: Decodable {
    let role: String
    let expires_at: String?
}

struct PasswordResetBody: Decodable {
    let new_password: String
}

extension WardenAPI {
    func addAdminRoutes(_ router: Router<WardenContext>) {
        on(router, .post, "/admin/accounts") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(CreateAccountBody.self, request)
            let account = try await services.security.createAccount(
                try Self.newAccount(username: body.username, password: body.password, email: body.email, phone: body.phone), principal)
            return JSONResponse.make(.created, Self.account(account))
        }
        on(router, .get, "/admin/accounts/:id") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let (account, grants) = try await services.security.readAccount(id: try Self.uuid(context.parameters.get("id")), principal)
            return JSONResponse.make(.ok, Self.account(account).merging(["roles": grants.map(\.role)]) { $1 })
        }
        on(router, .delete, "/admin/accounts/:id") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            try await services.security.delete(try await target(context), principal)
            return JSONResponse.noContent()
        }
        on(router, .post, "/admin/accounts/:id/disable") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let (updated, revoked) = try await services.security.disable(try await target(context), principal)
            metrics.increment("warden_session_revocations_total", ["kind": "account_disabled"], by: revoked)
            return JSONResponse.make(.ok, Self.account(updated).merging(["sessions_revoked": revoked]) { $1 })
        }
        on(router, .post, "/admin/accounts/:id/enable") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            return JSONResponse.make(.ok, Self.account(try await services.security.enable(try await target(context), principal)))
        }
        // Clears a password lock and the MFA lock (or hard stop).
        on(router, .post, "/admin/accounts/:id/unlock") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            return JSONResponse.make(.ok, Self.account(try await services.security.unlock(try await target(context), principal)))
        }
        // An administrator's password reset: every session of the account ends.
        on(router, .post, "/admin/accounts/:id/password") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(PasswordResetBody.self, request)
            let revoked = try await services.security.resetPassword(
                of: try await target(context), to: try Field.text(body.new_password, "new_password", max: 256), principal)
            return JSONResponse.make(.ok, ["changed": true, "sessions_revoked": revoked])
        }
        on(router, .post, "/admin/accounts/:id/roles") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let body = try await decode(GrantBody.self, request)
            let account = try await target(context)
            let expires = try body.expires_at.map { text -> Date in
                guard let date = try? Date(text, strategy: .iso8601) else { throw APIError.badRequest("`expires_at` must be an RFC 3339 time") }
                return date
            }
            try await services.security.grantRole(try Field.text(body.role, "role", max: 64), to: account, expires: expires, principal)
            return JSONResponse.make(.ok, ["roles": try await services.security.access.grants(of: account).map(\.role)])
        }
        on(router, .delete, "/admin/accounts/:id/roles/:role") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            guard let role = context.parameters.get("role"), try await services.security.revokeRole(role, from: try await target(context), principal) else {
                throw APIError.notFound
            }
            return JSONResponse.noContent()
        }
        on(router, .get, "/admin/accounts/:id/sessions") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let (sessions, analytics) = try await services.security.accountSessions(try await target(context), principal)
            return JSONResponse.make(
                .ok,
                [
                    "sessions": sessions.map { Self.session($0, current: nil) },
                    "active_sessions": analytics.activeSessions,
                    "devices": analytics.devices.map {
                        ["fingerprint": $0.fingerprint, "user_agent": $0.userAgent, "first_seen": JSONResponse.timestamp($0.firstSeen), "last_seen": JSONResponse.timestamp($0.lastSeen)]
                    },
                ])
        }
        on(router, .delete, "/admin/accounts/:id/sessions") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let count = try await services.security.revokeAccountSessions(try await target(context), principal)
            metrics.increment("warden_session_revocations_total", ["kind": "admin"], by: count)
            return JSONResponse.make(.ok, ["revoked": count])
        }
        on(router, .get, "/admin/audit") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let limit = try Self.integerQuery(request, "limit", default: 100, range: 1...1000)
            let entries = try await services.security.auditLog(limit: limit, reader: services.auditReader, principal)
            return JSONResponse.make(
                .ok,
                [
                    "events": entries.map { entry -> [String: Any] in
                        var event: [String: Any] = [
                            "sequence": Int(entry.sequence), "time": JSONResponse.timestamp(entry.event.time), "action": entry.event.action,
                            "outcome": entry.event.outcome.rawValue, "actor": entry.event.actor, "details": entry.event.details,
                        ]
                        event["subject"] = entry.event.subject
                        event["source_address"] = entry.event.sourceAddress
                        event["request_id"] = entry.event.requestID
                        return event
                    }
                ])
        }
    }

    /// An integer query parameter: absent → `default`; anything but a whole number in `range` → 400.
    static func integerQuery(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard text.utf8.count <= 10, text.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int(text), range.contains(number) else {
            throw APIError.badRequest("`\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func account(_ account: Account) -> [String: Any] {
        var object: [String: Any] = [
            "id": account.id.lowercasedText, "username": account.username, "status": account.status == .locked ? "active" : account.status.rawValue,
            "created_at": JSONResponse.timestamp(account.created),
        ]
        object["email"] = account.email
        if let lockedUntil = account.lockedUntil { object["password_locked_until"] = JSONResponse.timestamp(lockedUntil) }
        return object
    }
}
