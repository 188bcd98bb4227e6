import CoreMetrics
import Prometheus
import WardenHTTP

/// The metrics backend of `warden serve`: a Prometheus registry, bootstrapped as the process's
/// swift-metrics factory (so the Redis client and the SQL store, which time their round trips through
/// `MetricsSystem.factory`, record into it), and rendered by `GET /metrics`.
enum MetricsBackend {
    /// Bootstraps the process-wide factory (once per process: call it before opening any store) and
    /// returns the API's metrics over the same registry.
    static func bootstrap() -> Metrics {
        let registry = PrometheusCollectorRegistry()
        let factory = factory(registry)
        MetricsSystem.bootstrap(factory)
        return Metrics(factory: factory, exposition: { registry.emitToString() })
    }

    /// A factory over `registry` with Warden's histogram buckets.
    static func factory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Metrics.requestBuckets
        factory.durationHistogramBuckets = Metrics.durationBuckets
        return factory
    }
}
