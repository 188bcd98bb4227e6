public import WardenCore

/// Why a multi-factor operation failed. Messages are fixed text plus non-secret facts: never a code, a
/// secret or a destination.
public struct MFAError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. Codes may be added; the raw values (`invalid_code`, `locked`, …) are those API
    /// responses, audit entries and the docs show.
    public typealias Code = ErrorCode<MFAError>

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

extension ErrorCode where Domain == MFAError {
    /// Parameters out of range (digits, period, names).
    public static var invalidParameters: Self { Self("invalid_parameters") }
    /// The code, challenge or enrollment is wrong, used, expired or unknown (one answer for all).
    public static var invalidCode: Self { Self("invalid_code") }
    /// Too many failures: locked until `retryAfter`, or stopped for good until an administrator resets it.
    public static var locked: Self { Self("locked") }
    /// Too many requests (sending or verifying) for the account or the address.
    public static var rateLimited: Self { Self("rate_limited") }
    /// The operation needs a recent MFA-level authentication.
    public static var reauthenticationRequired: Self { Self("reauthentication_required") }
    /// The method is not enrolled or not available (no sender configured).
    public static var unavailableMethod: Self { Self("unavailable_method") }
    /// The code could not be delivered; it was not counted as sent.
    public static var deliveryFailed: Self { Self("delivery_failed") }
    /// The store could not be reached.
    public static var unavailable: Self { Self("unavailable") }
    public static var notFound: Self { Self("not_found") }
}
