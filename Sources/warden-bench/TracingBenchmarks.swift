import Tracing
import WardenCore

/// What a span site costs with tracing off (no `WARDEN_OTEL_ENDPOINT`): the hot path's price for
/// being traceable.
///
/// Each benchmark runs one async call of a tiny body per operation: directly (the code before spans
/// were added), through ``WardenTracing/span(_:isolation:_:)`` with tracing off (the code now, as
/// `warden serve` runs it without an endpoint), and through swift-distributed-tracing's `withSpan` over
/// its `NoOpTracer` inside a request's context (what an unguarded site would cost without a tracer).
/// A password login passes about a dozen sites, a session check three to five.
enum TracingBenchmarks {
    static func all() -> [Benchmark] {
        precondition(!WardenTracing.isEnabled, "the benchmarks measure tracing off")
        let context = ServiceContext.topLevel
        return [
            Benchmark(name: "tracing.site.direct", size: nil, unit: .opsPerSecond) { n in
                for i in 0..<n { blackHole(await body(i)) }
            },
            // The flag alone, read where the site is (as WardenMiddleware reads it before its server span).
            Benchmark(name: "tracing.site.flag", size: nil, unit: .opsPerSecond) { n in
                for i in 0..<n {
                    if WardenTracing.isEnabled { blackHole(await WardenTracing.span("sql accounts_query") { _ in await body(i) }) } else { blackHole(await body(i)) }
                }
            },
            Benchmark(name: "tracing.site.off", size: nil, unit: .opsPerSecond) { n in
                await ServiceContext.withValue(context) {
                    for i in 0..<n { blackHole(await WardenTracing.span("sql accounts_query") { _ in await body(i) }) }
                }
            },
            Benchmark(name: "tracing.site.noop", size: nil, unit: .opsPerSecond) { n in
                await ServiceContext.withValue(context) {
                    for i in 0..<n { blackHole(await withSpan("sql accounts_query") { _ in await body(i) }) }
                }
            },
        ]
    }

    @inline(never) static func body(_ value: Int) async -> Int { value &+ 1 }
}
