import HTTPTypes
import WardenSessions

extension SessionError: APIErrorConvertible {
    var apiError: APIError {
        switch code {
        case .invalidToken: .unauthorized
        case .refreshTokenReused: APIError(.unauthorized, "refresh_token_reused", "this refresh token was already used; the session has been revoked")
        case .limitReached: APIError(.conflict, "session_limit", "the account has the maximum number of sessions")
        case .notFound: .notFound
        default: .unavailable
        }
    }
}
