/// What went wrong, in a form callers can compare and switch on: a stable string such as
/// `access.account_not_found`, in the namespace of the error type it belongs to.
///
/// Every Warden module's error declares `typealias Code = ErrorCode<ThatError>` and its codes in a
/// constrained extension:
///
/// ```swift
/// public struct AccessError: Error {
///     public typealias Code = ErrorCode<AccessError>
///     public let code: Code
/// }
///
/// extension ErrorCode where Domain == AccessError {
///     public static var accountNotFound: Self { Self("access.account_not_found") }
/// }
/// ```
///
/// so that `error.code == .accountNotFound` and `AccessError.Code.accountNotFound` read as they would with
/// a nested type, while one module's code cannot be compared with another's (the `Domain` differs). A
/// `switch` over a code needs a `default`, and that is the point: codes can be added in any release
/// without breaking callers, where a public enum would break every exhaustive `switch` (swift-crypto's
/// frozen error enums cost it three major versions).
///
/// - Important: The raw values are part of Warden's interface — API responses, audit entries and the
///   docs show them — and never change once released.
public struct ErrorCode<Domain>: Hashable, Sendable, CustomStringConvertible {
    /// The stable text of the code.
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
