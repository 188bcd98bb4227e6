import Foundation
import Hummingbird
import WardenSessions

extension WardenAPI {
    func addSessionRoutes(_ router: Router<WardenContext>) {
        router.get("/auth/sessions") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            let sessions = try await services.sessions.sessions(accountID: caller.account.id)
            return JSONResponse.make(.ok, ["sessions": sessions.map { Self.session($0, current: caller.session.sessionHash) }])
        }
        // Own sessions only: another account's session id is "not found".
        router.delete("/auth/sessions/:id") { request, context in
            var context = context
            let caller = try await authenticate(request, &context)
            guard let id = context.parameters.get("id"), id.utf8.count == 64, id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw APIError.notFound
            }
            try await services.sessions.revoke(sessionHash: id, accountID: caller.account.id, context: context.audit)
            metrics.increment("warden_session_revocations_total", ["kind": "session"], help: "Sessions revoked, by kind.")
            return JSONResponse.noContent()
        }
    }
}
