import HTTPTypes
import WardenAccess

extension AccessError: APIErrorConvertible {
    var apiError: APIError {
        switch code {
        // One answer for every failed login, whatever message the error carries.
        case .invalidCredentials: APIError(.unauthorized, "invalid_credentials", AccessError.invalidCredentials.message)
        case .usernameTaken: APIError(.conflict, "username_taken", message)
        case .invalidUsername, .invalidContact, .weakPassword, .invalidRole, .invalidPermission: APIError(.badRequest, "invalid_request", message)
        case .accountNotFound, .roleNotFound: .notFound
        default: .unavailable
        }
    }
}
