public import CoreMetrics
import Synchronization

/// The latency histogram of one kind of round trip (a Redis command, an SQL operation), one series per
/// value of a single label, through swift-metrics.
///
/// Each series' timer is made once, on first use, and kept: recording is then a dictionary lookup under a
/// lock and the backend's own update, never a registration per call.
///
/// - Important: The label value must come from a small fixed vocabulary chosen by the code (a command
///   name, an operation kind) — never a key, an identifier or text from a request, which would make one
///   series per value and could expose it to whoever reads the metrics.
public final class RoundTripTimers: Sendable {
    public let name: String
    public let label: String
    private let factory: any MetricsFactory
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    /// - Parameters:
    ///   - name: The metric's name, e.g. `warden_redis_command_duration_seconds`.
    ///   - label: The one label that tells the series apart, e.g. `command`.
    ///   - factory: The metrics backend; the process-wide one (`MetricsSystem.factory`) by default, which
    ///     records nothing until `warden serve` bootstraps it.
    public init(name: String, label: String, factory: (any MetricsFactory)? = nil) {
        self.name = name
        self.label = label
        self.factory = factory ?? MetricsSystem.factory
    }

    /// The timer of one series.
    public func timer(_ value: String) -> CoreMetrics.Timer {
        timers.withLock { timers in
            if let timer = timers[value] { return timer }
            let timer = CoreMetrics.Timer(label: name, dimensions: [(label, value)], factory: factory)
            timers[value] = timer
            return timer
        }
    }

    /// Runs `body` and records how long it took (also when it throws) under `value`.
    public func measure<T>(_ value: String, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { record(value, since: started) }
        return try await body()
    }

    /// Records the time from `started` to now under `value`.
    public func record(_ value: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        timer(value).recordNanoseconds(Self.nanoseconds(elapsed))
    }

    /// A duration in whole nanoseconds (saturating; durations here are far below 292 years).
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
