import ArgumentParser
import Foundation
import WardenHTTP

@main
struct WardenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden-bench",
        abstract: "Measure Warden's hot paths (build with -c release).",
        discussion: "Prints a table, and with --json writes the records described in BENCH.md.")

    @Option(help: "Write the records as JSON to this file.")
    var json: String?

    @Option(help: "Run only benchmarks whose name starts with this prefix.")
    var filter: String?

    @Option(help: "Repetitions per benchmark.")
    var reps = 5

    @Option(help: "Also measure the store against this PostgreSQL database (postgres://…; an empty scratch database).")
    var databaseURL: String?

    @Option(help: "Redis for session.validate (skipped with a message when unreachable).")
    var redisURL = "redis://127.0.0.1:6379"

    @Option(
        help: ArgumentHelp(
            "Instead of benchmarking, serve a bare Hummingbird application on this port (GET /health answers a fixed JSON body): the framework's floor under Warden's own routes.", valueName: "port"))
    var serveFloor: Int?

    /// Tasks run on NIO's event loops, as in `warden serve` (`WARDEN_EXECUTOR=swift`: Swift's own pool).
    static func main() async {
        if !EventLoopExecutor.keepsSwiftsPool {
            let outcome = EventLoopExecutor.install()
            if outcome != .installed { FileHandle.standardError.write(Data("warden-bench: tasks stay on Swift's pool (\(outcome.rawValue))\n".utf8)) }
        }
        await main(nil)
    }

    func run() async throws {
        if let serveFloor {
            try await FloorServer.run(port: serveFloor)
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #if DEBUG
        print("warning: this is a debug build; measure with `swift run -c release warden-bench`")
        #endif
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let benchmarks =
            (try await CryptoBenchmarks.all(scratch: scratch) + AccessBenchmarks.all(scratch: scratch, databaseURL: databaseURL)
            + SessionBenchmarks.all(redisURL: redisURL) + TracingBenchmarks.all() + TLSBenchmarks.all())
            .filter { filter == nil || $0.name.hasPrefix(filter!) }
        let runner = Runner(reps: reps)
        var records: [Record] = []
        print("name".padding(toLength: 28, withPad: " ", startingAt: 0) + "    size        median           min           max  unit")
        for benchmark in benchmarks {
            let record = try await runner.measure(benchmark)
            records.append(record)
            let size = record.size.map(String.init) ?? "-"
            print(
                record.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(repeating: " ", count: max(0, 8 - size.count)) + size
                    + String(format: " %13.1f %13.1f %13.1f  %@", record.median, record.min, record.max, record.unit)
                    + (record.concurrency.map { String(format: "  (concurrency %d, p50 %.0f µs, p99 %.0f µs)", $0, record.p50 ?? 0, record.p99 ?? 0) } ?? ""))
        }
        if let json {
            let body = "{\"records\": [\n  " + records.map(\.json).joined(separator: ",\n  ") + "\n]}\n"
            try body.write(toFile: json, atomically: true, encoding: .utf8)
        }
    }
}
