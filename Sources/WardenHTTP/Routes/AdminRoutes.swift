import Foundation
import Hummingbird
import WardenAccess
import WardenAudit
import WardenCore
import WardenSessions

extension WardenAPI {
    func addAdminRoutes(_ router: Router<WardenContext>) {
        router.post("/admin/accounts") { request, context in
            var context = context
            try await require("accounts:manage", try await authenticate(request, &context))
            let body = try await body(request)
            let account = try await services.accounts.create(
                username: try body.string("username", maxLength: 128), password: try body.optionalString("password", maxLength: 1024),
                email: try body.optionalString("email", maxLength: 254), phone: try body.optionalString("phone", maxLength: 32), context: context.audit)
            return JSONResponse.make(.created, Self.account(account))
        }
        router.get("/admin/accounts/:id") { request, context in
            var context = context
            try await require("accounts:read", try await authenticate(request, &context))
            let account = try await target(context)
            return JSONResponse.make(.ok, Self.account(account).merging(["roles": try await services.access.grants(of: account).map(\.role)]) { $1 })
        }
        router.post("/admin/accounts/:id/disable") { request, context in
            var context = context
            try await require("accounts:manage", try await authenticate(request, &context))
            let account = try await target(context)
            let updated = try await services.accounts.setStatus(id: account.id, to: .disabled, context: context.audit)
            let revoked = try await services.sessions.revokeAll(accountID: account.id, reason: "account_disabled", context: context.audit)
            return JSONResponse.make(.ok, Self.account(updated).merging(["sessions_revoked": revoked]) { $1 })
        }
        // Clears a password lock and the MFA lock (or hard stop).
        router.post("/admin/accounts/:id/unlock") { request, context in
            var context = context
            try await require("accounts:manage", try await authenticate(request, &context))
            let account = try await target(context)
            let updated = try await services.accounts.setStatus(id: account.id, to: .active, context: context.audit)
            try await services.mfa.resetLockout(accountID: account.id, context: context.audit)
            return JSONResponse.make(.ok, Self.account(updated))
        }
        router.post("/admin/accounts/:id/roles") { request, context in
            var context = context
            try await require("roles:manage", try await authenticate(request, &context))
            let account = try await target(context)
            let body = try await body(request)
            try await services.access.grant(try body.string("role", maxLength: 64), to: account, context: context.audit)
            return JSONResponse.make(.ok, ["roles": try await services.access.grants(of: account).map(\.role)])
        }
        router.delete("/admin/accounts/:id/roles/:role") { request, context in
            var context = context
            try await require("roles:manage", try await authenticate(request, &context))
            let account = try await target(context)
            guard let role = context.parameters.get("role"), try await services.access.revoke(role, from: account, context: context.audit) else { throw APIError.notFound }
            return JSONResponse.noContent()
        }
        router.get("/admin/accounts/:id/sessions") { request, context in
            var context = context
            try await require("sessions:read", try await authenticate(request, &context))
            let account = try await target(context)
            let analytics = try await services.sessions.analytics(accountID: account.id)
            return JSONResponse.make(.ok, [
                "sessions": try await services.sessions.sessions(accountID: account.id).map { Self.session($0, current: nil) },
                "active_sessions": analytics.activeSessions,
                "devices": analytics.devices.map { ["fingerprint": $0.fingerprint, "user_agent": $0.userAgent, "first_seen": JSONResponse.timestamp($0.firstSeen), "last_seen": JSONResponse.timestamp($0.lastSeen)] },
            ])
        }
        router.delete("/admin/accounts/:id/sessions") { request, context in
            var context = context
            try await require("sessions:revoke", try await authenticate(request, &context))
            let account = try await target(context)
            let count = try await services.sessions.revokeAll(accountID: account.id, reason: "admin", context: context.audit)
            metrics.increment("warden_session_revocations_total", ["kind": "admin"], by: Double(count), help: "Sessions revoked, by kind.")
            return JSONResponse.make(.ok, ["revoked": count])
        }
        router.get("/admin/audit") { request, context in
            var context = context
            try await require("audit:read", try await authenticate(request, &context))
            let limit = min(1000, max(1, request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 100))
            let entries = try await services.auditReader.latest(limit: limit)
            return JSONResponse.make(.ok, ["events": entries.map { entry -> [String: Any] in
                var event: [String: Any] = [
                    "sequence": Int(entry.sequence), "time": JSONResponse.timestamp(entry.event.time), "action": entry.event.action,
                    "outcome": entry.event.outcome.rawValue, "actor": entry.event.actor, "details": entry.event.details,
                ]
                event["subject"] = entry.event.subject
                event["source_address"] = entry.event.sourceAddress
                event["request_id"] = entry.event.requestID
                return event
            }])
        }
    }

    private func target(_ context: WardenContext) async throws -> Account {
        guard let account = try await services.accounts.account(id: try Self.uuid(context.parameters.get("id"))) else { throw APIError.notFound }
        return account
    }

    static func account(_ account: Account) -> [String: Any] {
        var object: [String: Any] = [
            "id": account.id.uuidString.lowercased(), "username": account.username, "status": account.status.rawValue,
            "created_at": JSONResponse.timestamp(account.created),
        ]
        object["email"] = account.email
        return object
    }
}
