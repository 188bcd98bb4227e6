import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing
import WardenApp
import WardenCore

/// The trace exporter of `warden serve`: swift-otel's tracer, sending spans over OTLP/HTTP (protobuf) to
/// a collector, in batches, from a service of the application's group.
///
/// Only this module links an exporter; the domain modules open spans through the tracing API
/// (``WardenTracing``), which stays off — no span, no context binding — unless ``bootstrap(_:logger:)``
/// ran.
enum TracingBackend {
    /// Bootstraps the process's tracer (once per process, before the server starts), turns Warden's spans
    /// on and returns the exporter's service, which must run in the application's service group: it sends
    /// batches and, at shutdown, the spans still buffered.
    ///
    /// The OpenTelemetry SDK's own variables (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, …)
    /// apply over these settings.
    ///
    /// - Throws: swift-otel's configuration error when the exporter cannot be made.
    static func bootstrap(_ settings: WardenConfiguration.Traces, logger: Logger) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.propagators = [.traceContext]
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.endpoint = settings.endpoint
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.sampler = .parentBasedAlwaysOn
        if settings.sampleRatio < 1, let sampler = type(of: configuration.traces.sampler).parentBasedTraceIDRatio(ratio: settings.sampleRatio) {
            configuration.traces.sampler = sampler
        }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        WardenTracing.enable()
        return backend.service
    }
}
