import HTTPTypes
import WardenAuth

extension AuthError: APIErrorConvertible {
    var apiError: APIError {
        switch code {
        case .unauthorized: .unauthorized
        case .forbidden: APIError(.forbidden, "forbidden", message)
        case .reauthenticationRequired: APIError(.forbidden, "reauthentication_required", message)
        case .rateLimited: APIError(.tooManyRequests, "rate_limited", message, retryAfter: retryAfter)
        case .invalidRequest: APIError(.badRequest, "invalid_request", message)
        case .conflict: APIError(.conflict, "conflict", message)
        case .notFound: .notFound
        default: .unavailable
        }
    }
}
