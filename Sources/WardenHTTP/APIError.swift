import Foundation
public import HTTPTypes
import Hummingbird
import WardenAccess
import WardenAuth
import WardenCrypto
import WardenMFA
import WardenSessions

/// An error as the API reports it: a status, a stable code, a message safe to show, and for 429/423 (and
/// 503 `busy`) when to retry. Every error the domain layers throw is mapped here; anything unexpected becomes a generic
/// 500 (or 503 for an unreachable store) without details.
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var retryAfter: Double?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Double? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }
    static let unauthorized: APIError = {
        var error = APIError(.unauthorized, "invalid_token", "a valid access token is required")
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }()
    static let forbidden = APIError(.forbidden, "forbidden", "this account may not do that")
    static let notFound = APIError(.notFound, "not_found", "no such resource")
    static let unavailable = APIError(.serviceUnavailable, "unavailable", "a backing service is unavailable; try again shortly")
    /// Password hashing shed the request (its threads busy, its queue full): nothing was checked or
    /// changed, and the answer is the same for every username.
    static let busy = APIError(.serviceUnavailable, "busy", "the server is busy; try again shortly", retryAfter: 1)

    /// The JSON body: Warden's `{"error":{code, message}, request_id}`, or under the original system's
    /// shapes its `{"error":"<message>"}` with the code beside it (`code`, `request_id`). The message is
    /// the same safe text either way.
    func body(requestID: String, compatibility: ServerConfiguration.APICompatibility) -> [String: Any] {
        var body: [String: Any] = ["request_id": requestID]
        switch compatibility {
        case .warden:
            body["error"] = ["code": code, "message": message]
        case .original:
            body["error"] = message
            body["code"] = code
        }
        if let retryAfter { body["retry_after"] = Int(retryAfter.rounded(.up)) }
        return body
    }

    /// Maps any error to what the client sees.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as AuthError:
            switch error.code {
            case .unauthorized: return .unauthorized
            case .forbidden: return APIError(.forbidden, "forbidden", error.message)
            case .reauthenticationRequired: return APIError(.forbidden, "reauthentication_required", error.message)
            case .rateLimited: return APIError(.tooManyRequests, "rate_limited", error.message, retryAfter: error.retryAfter)
            case .invalidRequest: return APIError(.badRequest, "invalid_request", error.message)
            case .conflict: return APIError(.conflict, "conflict", error.message)
            case .notFound: return .notFound
            default: return .unavailable
            }
        case let error as SessionError:
            switch error.code {
            case .invalidToken: return .unauthorized
            case .refreshTokenReused: return APIError(.unauthorized, "refresh_token_reused", "this refresh token was already used; the session has been revoked")
            case .limitReached: return APIError(.conflict, "session_limit", "the account has the maximum number of sessions")
            case .notFound: return .notFound
            default: return .unavailable
            }
        case let error as AccessError:
            switch error.code {
            case .invalidCredentials: return APIError(.unauthorized, "invalid_credentials", AccessError.invalidCredentials.message)
            case .usernameTaken: return APIError(.conflict, "username_taken", error.message)
            case .invalidUsername, .invalidContact, .weakPassword, .invalidRole, .invalidPermission: return APIError(.badRequest, "invalid_request", error.message)
            case .accountNotFound, .roleNotFound: return .notFound
            default: return .unavailable
            }
        case let error as MFAError:
            switch error.code {
            case .invalidCode: return APIError(.unauthorized, "invalid_code", error.message)
            case .locked: return APIError(HTTPResponse.Status(code: 423, reasonPhrase: "Locked"), "mfa_locked", error.message, retryAfter: error.retryAfter)
            case .rateLimited: return APIError(.tooManyRequests, "rate_limited", error.message, retryAfter: error.retryAfter)
            case .reauthenticationRequired: return APIError(.forbidden, "reauthentication_required", error.message)
            case .unavailableMethod, .invalidParameters: return APIError(.badRequest, "invalid_request", error.message)
            case .deliveryFailed: return APIError(.badGateway, "delivery_failed", error.message)
            case .notFound: return .notFound
            default: return .unavailable
            }
        case let error as WardenCryptoError:
            switch error.code {
            case .decryptionFailed, .unknownKeyVersion, .retiredKeyVersion, .destroyedKeyVersion, .invalidContext, .legacyKeyMissing:
                return APIError(.badRequest, "decryption_failed", error.code == .decryptionFailed ? "decryption failed" : error.message)
            case .tooLarge: return APIError(.contentTooLarge, "too_large", error.message)
            case .invalidOperation: return APIError(.conflict, "invalid_operation", error.message)
            case .busy: return .busy
            default: return .unavailable
            }
        case let error as HTTPError:
            return APIError(error.status, error.status == .contentTooLarge ? "too_large" : error.status == .notFound ? "not_found" : "http_error",
                            error.status == .notFound ? "no such resource" : error.status.reasonPhrase)
        default:
            // Stores and clients that are not reachable surface as their own error types; none of them is
            // the caller's fault and none may look like success.
            return .unavailable
        }
    }
}
