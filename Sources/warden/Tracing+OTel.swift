import ArgumentParser
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing
import WardenCore

/// The trace exporter of `warden serve`: swift-otel's tracer, sending spans over OTLP/HTTP (protobuf) to
/// a collector, in batches, from a service of the application's group.
///
/// Only this module links an exporter; the domain modules open spans through the tracing API
/// (``WardenTracing``), which stays off — no span, no context binding — unless ``bootstrap(_:logger:)``
/// ran.
enum TracingBackend {
    /// Where and how spans are exported (`WARDEN_OTEL_*`, docs/configuration.md).
    struct Settings: Sendable, Equatable {
        /// The OTLP/HTTP traces URL: the collector's address with `/v1/traces` added when it had no path.
        var endpoint: String
        /// `service.name` of every span's resource.
        var serviceName = "warden"
        /// The share of new traces recorded (0–1); a caller's sampled `traceparent` decides for its own trace.
        var sampleRatio = 1.0
    }

    /// Bootstraps the process's tracer (once per process, before the server starts), turns Warden's spans
    /// on and returns the exporter's service, which must run in the application's service group: it sends
    /// batches and, at shutdown, the spans still buffered.
    ///
    /// The OpenTelemetry SDK's own variables (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, …)
    /// apply over these settings.
    ///
    /// - Throws: swift-otel's configuration error when the exporter cannot be made.
    static func bootstrap(_ settings: Settings, logger: Logger) throws -> any Service {
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

extension ServeCommand {
    /// Trace export: `WARDEN_OTEL_ENDPOINT` (an `http` or `https` URL of an OTLP/HTTP collector; `/v1/traces`
    /// is added when it has no path), `WARDEN_OTEL_SERVICE_NAME` (default `warden`) and
    /// `WARDEN_OTEL_SAMPLE_RATIO` (0–1, default 1). `nil` without an endpoint: nothing is traced.
    static func traces(_ environment: [String: String]) throws -> TracingBackend.Settings? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let text = value("WARDEN_OTEL_ENDPOINT") else { return nil }
        guard var url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw ValidationError("WARDEN_OTEL_ENDPOINT must be an http or https URL of an OTLP/HTTP collector, such as http://localhost:4318")
        }
        if url.path.isEmpty || url.path == "/" { url.path = "/v1/traces" }
        var settings = TracingBackend.Settings(endpoint: url.string ?? text)
        if let name = value("WARDEN_OTEL_SERVICE_NAME") {
            guard name.count <= 128, name.allSatisfy({ !$0.isNewline }) else { throw ValidationError("WARDEN_OTEL_SERVICE_NAME must be one line of at most 128 characters") }
            settings.serviceName = name
        }
        if let text = value("WARDEN_OTEL_SAMPLE_RATIO") {
            guard let ratio = Double(text), (0...1).contains(ratio) else { throw ValidationError("WARDEN_OTEL_SAMPLE_RATIO must be a number from 0 to 1") }
            settings.sampleRatio = ratio
        }
        return settings
    }
}
