import Hummingbird

/// Hummingbird's own refusals (no route, a body over the router's limit) in the API's shape.
extension HTTPError: APIErrorConvertible {
    var apiError: APIError {
        switch status {
        case .notFound: APIError(status, "not_found", "no such resource")
        case .contentTooLarge: APIError(status, "too_large", status.reasonPhrase)
        default: APIError(status, "http_error", status.reasonPhrase)
        }
    }
}
