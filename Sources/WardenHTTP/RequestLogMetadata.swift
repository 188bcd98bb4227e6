public import Logging

/// The request's ids as log metadata, for every line logged while the request is handled.
///
/// The middleware puts `request_id` (and `trace_id` when the caller sent a valid `traceparent`) on the
/// request context's logger, and also binds them to the request's task here. The metadata provider
/// (installed by `warden serve` when it bootstraps logging) adds them to lines logged through any other
/// logger during the request — the SQL pool's, a delivery sender's — and to nothing logged outside a
/// request.
public enum RequestLogMetadata {
    @TaskLocal static var current: Logger.Metadata = [:]

    /// Adds the ids of the request being handled, if any, to a line.
    public static let provider = Logger.MetadataProvider { current }

    /// `request_id`, and `trace_id` when there is one.
    static func metadata(requestID: String, traceID: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["request_id": .string(requestID)]
        if let traceID { metadata["trace_id"] = .string(traceID) }
        return metadata
    }
}
