import Foundation
public import HTTPTypes

/// An error as the API reports it: a status, a stable code, a message safe to show, and for 429/423 (and
/// 503 `busy`) when to retry. Every error the domain layers throw maps itself to one (``APIErrorConvertible``);
/// anything unexpected becomes a generic 503 without details.
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

    /// Maps any error to what the client sees: the error's own answer (``APIErrorConvertible``, one
    /// conformance per module's error type, in `Errors/`), else 503 `unavailable`.
    static func from(_ error: any Error) -> APIError {
        // Stores and clients that are not reachable surface as their own error types; none of them is
        // the caller's fault and none may look like success.
        (error as? any APIErrorConvertible)?.apiError ?? .unavailable
    }
}
