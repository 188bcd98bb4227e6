import HTTPTypes
import Hummingbird
import Tracing
import WardenCore

extension WardenMiddleware {
    /// ``respond(_:context:next:)`` in a server span: the request's trace, joined to the caller's when it
    /// sent a valid W3C `traceparent` (read by the tracer's own propagation), and the parent of every span
    /// the use case, the store and Redis make while the request runs.
    ///
    /// The span is named by the method and the route **pattern** the router matched (`POST /auth/login`,
    /// `GET /admin/accounts/{id}`), never the raw path; a request no route takes is `unmatched`. Its
    /// attributes are the method, the route, the status code and the request id (`X-Request-ID`); a 5xx
    /// marks it failed.
    func traced(_ request: Request, context: WardenContext, next: (Request, WardenContext) async throws -> Response) async throws -> Response {
        var parent = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        let span = startSpan(method + " " + route, context: parent, ofKind: .server)
        defer { span.end() }
        span.attributes["http.request.method"] = method
        span.attributes["http.route"] = route
        span.attributes["warden.request_id"] = context.requestID
        do {
            let response = try await ServiceContext.withValue(span.context) { try await respond(request, context: context, next: next) }
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        } catch {
            // Only the type, as WardenTracing records errors: a description is never exported.
            span.attributes["error.type"] = String(reflecting: type(of: error))
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}

/// Reads trace-context headers for the tracer's propagation: a header sent more than once yields nothing
/// (as ``TraceParent`` reads it for the logs), so a request cannot join two traces.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        guard let name = HTTPField.Name(key) else { return nil }
        let values = carrier[values: name]
        return values.count == 1 ? values[0] : nil
    }
}
