import Foundation
import Synchronization

/// A small Prometheus registry: counters and latency histograms, rendered in the text exposition format.
public final class Metrics: Sendable {
    private struct Histogram {
        var buckets: [Int]
        var sum: Double = 0
        var count = 0
    }

    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private struct State {
        var counters: [String: [String: Double]] = [:]
        var histograms: [String: [String: Histogram]] = [:]
        var help: [String: (type: String, text: String)] = [:]
        var requestLabels: [RequestKey: (counter: String, histogram: String)] = [:]
    }

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private let state = Mutex(State())

    public init() {}

    public func increment(_ name: String, _ labels: [String: String] = [:], by amount: Double = 1, help: String) {
        state.withLock { state in
            state.help[name] = ("counter", help)
            state.counters[name, default: [:]][Self.labels(labels), default: 0] += amount
        }
    }

    /// One request: counted by route, method and status, timed by route and method. The label strings
    /// are built once per combination, not per request.
    public func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, method: method, status: status)
        state.withLock { state in
            let labels: (counter: String, histogram: String)
            if let known = state.requestLabels[key] {
                labels = known
            } else {
                labels = (Self.labels(["route": route, "method": method, "status": String(status)]), Self.labels(["route": route, "method": method]))
                state.requestLabels[key] = labels
                state.help["warden_http_requests_total"] = ("counter", "HTTP requests by route template, method and status.")
                state.help["warden_http_request_duration_seconds"] = ("histogram", "HTTP request latency by route template and method.")
            }
            state.counters["warden_http_requests_total", default: [:]][labels.counter, default: 0] += 1
            Self.add(seconds, to: &state.histograms["warden_http_request_duration_seconds", default: [:]][labels.histogram, default: Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))])
        }
    }

    private static func add(_ seconds: Double, to histogram: inout Histogram) {
        for (index, bound) in bounds.enumerated() where seconds <= bound { histogram.buckets[index] += 1 }
        histogram.sum += seconds
        histogram.count += 1
    }

    public func observe(_ name: String, _ labels: [String: String], seconds: Double, help: String) {
        state.withLock { state in
            state.help[name] = ("histogram", help)
            var histogram = state.histograms[name, default: [:]][Self.labels(labels)] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))
            for (index, bound) in Self.bounds.enumerated() where seconds <= bound { histogram.buckets[index] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.histograms[name, default: [:]][Self.labels(labels)] = histogram
        }
    }

    /// The text format, with `gauges` (computed at scrape time) appended.
    public func render(gauges: [(name: String, help: String, labels: [String: String], value: Double)] = []) -> String {
        state.withLock { state in
            var out = ""
            for name in state.counters.keys.sorted() {
                out += "# HELP \(name) \(state.help[name]?.text ?? "")\n# TYPE \(name) counter\n"
                for (labels, value) in state.counters[name]!.sorted(by: { $0.key < $1.key }) { out += "\(name)\(labels) \(Self.number(value))\n" }
            }
            for name in state.histograms.keys.sorted() {
                out += "# HELP \(name) \(state.help[name]?.text ?? "")\n# TYPE \(name) histogram\n"
                for (labels, histogram) in state.histograms[name]!.sorted(by: { $0.key < $1.key }) {
                    let inner = labels.isEmpty ? "" : String(labels.dropFirst().dropLast()) + ","
                    for (index, bound) in Self.bounds.enumerated() { out += "\(name)_bucket{\(inner)le=\"\(bound)\"} \(histogram.buckets[index])\n" }
                    out += "\(name)_bucket{\(inner)le=\"+Inf\"} \(histogram.count)\n\(name)_sum\(labels) \(histogram.sum)\n\(name)_count\(labels) \(histogram.count)\n"
                }
            }
            var seen = Set<String>()
            for gauge in gauges {
                if seen.insert(gauge.name).inserted { out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) gauge\n" }
                out += "\(gauge.name)\(Self.labels(gauge.labels)) \(Self.number(gauge.value))\n"
            }
            return out
        }
    }

    static func labels(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
