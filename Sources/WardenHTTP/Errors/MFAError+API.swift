import HTTPTypes
import WardenMFA

extension MFAError: APIErrorConvertible {
    var apiError: APIError {
        switch code {
        case .invalidCode: APIError(.unauthorized, "invalid_code", message)
        case .locked: APIError(HTTPResponse.Status(code: 423, reasonPhrase: "Locked"), "mfa_locked", message, retryAfter: retryAfter)
        case .rateLimited: APIError(.tooManyRequests, "rate_limited", message, retryAfter: retryAfter)
        case .reauthenticationRequired: APIError(.forbidden, "reauthentication_required", message)
        case .unavailableMethod, .invalidParameters: APIError(.badRequest, "invalid_request", message)
        case .deliveryFailed: APIError(.badGateway, "delivery_failed", message)
        case .notFound: .notFound
        default: .unavailable
        }
    }
}
