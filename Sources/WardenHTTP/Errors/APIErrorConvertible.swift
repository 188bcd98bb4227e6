/// An error that says what the API answers for it: a status, a stable code and a safe message.
///
/// Domain modules never import HTTP; WardenHTTP adds a conformance for each module's error, one file per
/// error type (`AuthError+API.swift`, …), and ``APIError/from(_:)`` asks the error for its answer.
/// An error without a conformance is a failure nobody foresaw — an unreachable store or client, a
/// programming error — and becomes 503 `unavailable`, never a success.
///
/// This is Warden's own protocol rather than Hummingbird's `HTTPResponseError` because one mapping
/// serves three renderings: the JSON body in Warden's or the original system's shape (chosen by the
/// server's configuration, with the request id the middleware assigns), the console's HTML pages, and
/// one item's error inside a batch response.
///
/// - Important: A conformance maps codes with a `default` branch that is a 503 (or the type's
///   generic refusal): a code added later must never fall through to a success or to a more revealing
///   message.
protocol APIErrorConvertible: Error {
    /// What the client sees for this error.
    var apiError: APIError { get }
}

extension APIError: APIErrorConvertible {
    var apiError: APIError { self }
}
