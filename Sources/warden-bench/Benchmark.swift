import Foundation

/// One named measurement: `run(n)` performs the operation `n` times.
struct Benchmark {
    enum Unit: String {
        case opsPerSecond = "ops/s"
        case millisecondsPerOp = "ms/op"
    }

    let name: String
    let size: Int?
    let unit: Unit
    /// For a concurrent benchmark: how many tasks run at once, and their per-operation latencies.
    var concurrency: Int? = nil
    var latencies: Latencies? = nil
    let run: (Int) async throws -> Void
}

/// The result of one benchmark, in the record shape of `BENCH.md`.
struct Record {
    let name: String
    let size: Int?
    let unit: String
    let median: Double
    let min: Double
    let max: Double
    let reps: Int
    var p50: Double? = nil
    var p99: Double? = nil
    var concurrency: Int? = nil

    var json: String {
        func number(_ value: Double) -> String { String(format: "%.3f", value) }
        return "{\"name\": \"\(name)\", \"size\": \(size.map(String.init) ?? "null"), \"unit\": \"\(unit)\", "
            + "\"median\": \(number(median)), \"min\": \(number(min)), \"max\": \(number(max)), \"reps\": \(reps)"
            + (concurrency.map { ", \"p50_us\": \(number(p50 ?? 0)), \"p99_us\": \(number(p99 ?? 0)), \"concurrency\": \($0)" } ?? "") + "}"
    }
}

/// Measures benchmarks: calibrates each to run 0.3–0.5 s, warms up once, then repeats.
struct Runner {
    let reps: Int
    let target: Duration = .milliseconds(400)

    func measure(_ benchmark: Benchmark) async throws -> Record {
        let clock = ContinuousClock()
        var iterations = 1
        while true {
            let elapsed = try await clock.measure { try await benchmark.run(iterations) }
            if elapsed >= .milliseconds(50) {
                let scale = target / elapsed
                iterations = Swift.max(1, Int(Double(iterations) * scale))
                break
            }
            iterations *= 4
        }
        _ = try await clock.measure { try await benchmark.run(iterations) }
        benchmark.latencies?.reset()
        var values: [Double] = []
        for _ in 0..<reps {
            let elapsed = try await clock.measure { try await benchmark.run(iterations) }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            switch benchmark.unit {
            case .opsPerSecond: values.append(Double(iterations) / seconds)
            case .millisecondsPerOp: values.append(seconds * 1000 / Double(iterations))
            }
        }
        values.sort()
        let median = values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
        return Record(
            name: benchmark.name, size: benchmark.size, unit: benchmark.unit.rawValue,
            median: median, min: values.first!, max: values.last!, reps: reps,
            p50: benchmark.latencies?.percentile(0.50), p99: benchmark.latencies?.percentile(0.99), concurrency: benchmark.concurrency)
    }
}
