public import CoreMetrics
import Synchronization
import WardenCore

/// Warden's metrics, recorded through swift-metrics: the names, labels and help texts in one place, the
/// values in whatever backend the application chose (Prometheus in `warden serve`).
///
/// The facade keeps the call sites short and the handlers cached: a request's counter and timer are made
/// once per route, method and status, not per request. The text that `GET /metrics` answers comes from
/// the backend (`exposition`); the facade adds the `# HELP` lines, which swift-metrics does not carry.
///
/// - Important: Labels are a fixed vocabulary: route *patterns* (`/admin/accounts/{id}`), never raw
///   paths; error codes; command and operation names. Nothing a client sends becomes a label value.
public final class Metrics: Sendable {
    /// The metrics backend.
    public let factory: any MetricsFactory
    private let exposition: @Sendable () -> String

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct SeriesKey: Hashable {
        let name: String
        let labels: [String: String]
    }

    private let requests = Mutex<[RequestKey: (count: CoreMetrics.Counter, duration: CoreMetrics.Timer)]>([:])
    private let counters = Mutex<[SeriesKey: CoreMetrics.Counter]>([:])
    private let gauges = Mutex<[SeriesKey: Meter]>([:])

    /// - Parameters:
    ///   - factory: Where the values go (a `PrometheusMetricsFactory` with its own registry in production
    ///     and in each test).
    ///   - exposition: The backend's current values in the Prometheus text format (the registry's
    ///     `emitToString`).
    public init(factory: any MetricsFactory, exposition: @escaping @Sendable () -> String) {
        self.factory = factory
        self.exposition = exposition
    }

    /// Metrics through the process-wide factory (`MetricsSystem.factory`), with nothing to expose: for
    /// tools that serve the API without a metrics backend (benchmarks).
    public convenience init() {
        self.init(factory: MetricsSystem.factory, exposition: { "" })
    }

    /// Adds `amount` to a counter. `name` must be one of ``help``'s.
    public func increment(_ name: String, _ labels: [String: String] = [:], by amount: Int = 1) {
        let key = SeriesKey(name: name, labels: labels)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(label: name, dimensions: Self.dimensions(labels), factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment(by: amount)
    }

    /// One request: counted by route pattern, method and status, timed by route pattern and method.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let handlers = requests.withLock { requests in
            if let known = requests[key] { return known }
            let handlers = (
                count: CoreMetrics.Counter(label: Self.requestCount, dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory),
                duration: CoreMetrics.Timer(label: Self.requestDuration, dimensions: [("method", method), ("route", route)], factory: factory)
            )
            requests[key] = handlers
            return handlers
        }
        handlers.count.increment()
        handlers.duration.recordNanoseconds(RoundTripTimers.nanoseconds(duration))
    }

    /// A request refused or failed with an API error: by route pattern and the error's `code`.
    public func recordFailure(route: String, code: String) {
        increment(Self.requestFailures, ["code": code, "route": route])
    }

    /// The text format: the backend's values, with `gauges` (computed at scrape time) set first. A gauge
    /// series missing from `gauges` that an earlier scrape set (a key version no longer usable) is removed.
    public func render(gauges current: [(name: String, labels: [String: String], value: Double)] = []) -> String {
        gauges.withLock { gauges in
            var seen = Set<SeriesKey>()
            for gauge in current {
                let key = SeriesKey(name: gauge.name, labels: gauge.labels)
                seen.insert(key)
                let meter = gauges[key] ?? Meter(label: gauge.name, dimensions: Self.dimensions(gauge.labels), factory: factory)
                gauges[key] = meter
                meter.set(gauge.value)
            }
            for (key, meter) in gauges where !seen.contains(key) {
                meter.destroy()
                gauges[key] = nil
            }
            return Self.addingHelp(to: exposition())
        }
    }

    /// Labels in name order, as the text format shows them.
    static func dimensions(_ labels: [String: String]) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `text` with a `# HELP` line before each `# TYPE` line of a metric in ``help`` that has none.
    static func addingHelp(to text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2048)
        var previous: Substring = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first,
                !previous.hasPrefix("# HELP \(name) "), let text = help[String(name)]
            {
                out += "# HELP \(name) \(text)\n"
            }
            out += line
            out += "\n"
            previous = line
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }
}

extension Metrics {
    static let requestCount = "warden_http_requests_total"
    static let requestDuration = "warden_http_request_duration_seconds"
    static let requestFailures = "warden_request_failures_total"
    /// Recorded by `RedisClient` (WardenRedis).
    public static let redisCommandDuration = "warden_redis_command_duration_seconds"
    /// Recorded by `SQLStore` (WardenSQL).
    public static let sqlQueryDuration = "warden_sql_query_duration_seconds"

    /// Every metric Warden records, with its help text (docs/metrics.md is the reference).
    public static let help: [String: String] = [
        requestCount: "HTTP requests by route template, method and status.",
        requestDuration: "HTTP request latency by route template and method.",
        requestFailures: "Requests answered with an API error, by route template and error code.",
        "warden_logins_total": "Password logins by outcome.",
        "warden_mfa_verifications_total": "MFA checks by method and outcome.",
        "warden_session_revocations_total": "Sessions revoked, by kind.",
        "warden_key_rotations_total": "Key rotations.",
        "warden_password_hashing_shed_total": "Requests refused (503 busy) because password hashing was at capacity, by route.",
        "warden_key_age_seconds": "Age of each usable data key version.",
        "warden_tls_certificate_expiry_seconds": "Seconds until the TLS certificate in use expires (negative once expired).",
        "warden_key_primary_version": "The primary data key version.",
        "warden_key_unknown_reloads":
            "Times since start that a ciphertext (field) or token (signing) named a key this process had not loaded yet and a re-read then found (0 while keys roll out in two phases).",
        redisCommandDuration: "Redis round trips (request to reply) by command or Lua script name.",
        sqlQueryDuration: "SQL round trips (one connection checkout or transaction) by store operation.",
    ]

    /// Histogram buckets of HTTP requests: 1 ms to 5 s.
    public static let requestBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    /// Histogram buckets of Redis and SQL round trips: 100 µs to 5 s (a local Redis answers in tens of µs).
    public static let roundTripBuckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500)] + requestBuckets

    /// The buckets of each histogram, for the backend (`PrometheusMetricsFactory.durationHistogramBuckets`).
    public static let durationBuckets: [String: [Duration]] = [
        requestDuration: requestBuckets, redisCommandDuration: roundTripBuckets, sqlQueryDuration: roundTripBuckets,
    ]
}
