/// Why a multi-factor operation failed. Messages are fixed text plus non-secret facts: never a code, a
/// secret or a destination.
public struct MFAError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Parameters out of range (digits, period, names).
        case invalidParameters = "invalid_parameters"
        /// The code, challenge or enrollment is wrong, used, expired or unknown (one answer for all).
        case invalidCode = "invalid_code"
        /// Too many failures: locked until `retryAfter`, or stopped for good until an administrator resets it.
        case locked
        /// Too many requests (sending or verifying) for the account or the address.
        case rateLimited = "rate_limited"
        /// The operation needs a recent MFA-level authentication.
        case reauthenticationRequired = "reauthentication_required"
        /// The method is not enrolled or not available (no sender configured).
        case unavailableMethod = "unavailable_method"
        /// The code could not be delivered; it was not counted as sent.
        case deliveryFailed = "delivery_failed"
        /// The store could not be reached.
        case unavailable
        case notFound = "not_found"
    }

    public let code: Code
    public let message: String
    /// For `locked` and `rateLimited`: when to try again (`nil` with `locked`: stopped until reset).
    public let retryAfter: Double?

    public init(_ code: Code, _ message: String, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static let invalidCode = MFAError(.invalidCode, "the code is not valid")
}
