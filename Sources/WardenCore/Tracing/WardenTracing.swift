// Public: the flag is read from inlinable code in the modules that open spans.
public import Synchronization
public import Tracing

/// Spans around Warden's units of work (a use case, a store round trip, a Redis command), made through
/// swift-distributed-tracing only while tracing is on.
///
/// Domain modules see the tracing API alone, as they see CoreMetrics: the exporter is chosen where the
/// application is composed (`warden serve` with `WARDEN_OTEL_ENDPOINT`), which bootstraps a tracer and
/// then calls ``enable()``.
///
/// Tracing off costs a check of one flag (a relaxed atomic load) per span site: about 0.4 µs measured
/// (docs/benchmarks.md). swift-distributed-tracing's `withSpan` is not free even over its `NoOpTracer`:
/// it reads the global tracer under a lock, makes a span value and binds the service context to the task
/// for the body (about 4.5 µs). With no tracer installed none of that happens here:
/// ``span(_:ofKind:isolation:_:)`` calls its body directly.
///
/// Spans made here are children only: outside a traced request (a background job's Redis command, the
/// command line's SQL) there is no current context and no span, so a job running every few seconds never
/// exports a root span of its own.
///
/// - Important: A span's name and attributes are exported to whoever runs the collector. Name spans by
///   operation (`sql sessions_query`, `redis EVALSHA`), never by a key, a query text, an identifier or a
///   value, and put no password, token, code, key, plaintext or username in an attribute.
public enum WardenTracing {
    @usableFromInline static let enabled = Atomic<Bool>(false)

    /// Whether a tracer was installed and spans are made.
    @inlinable public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Turns spans on. Call it once, after bootstrapping `InstrumentationSystem` with a tracer and before
    /// serving: it is never turned off again.
    public static func enable() {
        enabled.store(true, ordering: .releasing)
    }

    /// Runs `body` in a child span named `name` of the current trace; without tracing, or outside a
    /// trace, runs it with no span.
    ///
    /// A thrown error marks the span failed with its type alone (`error.type`, e.g.
    /// `WardenAccess.AccessError`), never its description: `withSpan` would export that as the exception's
    /// message, and a driver's message may quote a value.
    ///
    /// - Parameters:
    ///   - name: The span's name: an operation from a fixed vocabulary. Only evaluated when a span is made,
    ///     so building it costs nothing with tracing off.
    ///   - kind: `.client` for a call to another system (SQL, Redis), `.internal` otherwise.
    ///   - body: The work; it receives the span (to add attributes), or `nil` when none was made.
    /// - Returns: What `body` returns; its error is rethrown.
    @inlinable
    public static func span<T>(
        _ name: @autoclosure () -> String,
        ofKind kind: SpanKind = .internal,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        guard isEnabled, let context = ServiceContext.current else { return try await body(nil) }
        let span = startSpan(name(), context: context, ofKind: kind)
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context, isolation: isolation) { try await body(span) }
        } catch {
            span.attributes["error.type"] = String(reflecting: type(of: error))
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
