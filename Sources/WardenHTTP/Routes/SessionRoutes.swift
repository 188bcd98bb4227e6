import Foundation
import Hummingbird
import WardenAuth
import WardenSessions

extension WardenAPI {
    func addSessionRoutes(_ router: Router<WardenContext>) {
        on(router, .get, "/auth/sessions") { request, context in
            var context = context
            let principal = try await authenticate(request, &context, listingSessions: true)
            let sessions = try await services.security.ownSessions(principal)
            return JSONResponse.make(.ok, writing: SessionListingJSON(sessions: sessions, current: principal.session?.sessionHash))
        }
        // Own sessions only: another account's session id is "not found".
        on(router, .delete, "/auth/sessions/:id") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            let id = context.parameters.get("id") ?? ""
            try await services.security.revokeOwnSession(id, principal)
            metrics.increment("warden_session_revocations_total", ["kind": "session"])
            guard configuration.apiCompatibility == .original else { return JSONResponse.noContent() }
            return JSONResponse.make(.ok, ["message": "Session revoked successfully", "session_id": id])
        }
    }
}
