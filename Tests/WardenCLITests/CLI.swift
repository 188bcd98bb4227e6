import Foundation
import WardenCore
import WardenTestSupport

/// Runs the built `warden` executable in a scratch directory, as an operator would.
struct CLI {
    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
        var output: String { String(decoding: stdout, as: UTF8.self) }
        var line: String { output.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The `warden` binary: `WARDEN_BIN`, else beside the test bundle in the build directory.
    static let executable: String = {
        if let configured = ProcessInfo.processInfo.environment["WARDEN_BIN"], !configured.isEmpty { return configured }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("warden").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/warden"
    }()

    let directory: String
    var environment: [String: String] = [:]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The environment the CLI runs with: this process's, without any Warden settings or the original
    /// system's (which Warden reads as fallbacks), plus `environment`.
    var processEnvironment: [String: String] {
        var base = ProcessInfo.processInfo.environment
        let original = Set(OriginalEnvironment.variables.map(\.name))
        for key in base.keys where key.hasPrefix("WARDEN_") || key.hasPrefix("DIGITAL_TWIN_") || original.contains(key) { base[key] = nil }
        return base.merging(environment) { $1 }
    }

    @discardableResult
    func run(_ arguments: [String], input: Data = Data(), environment extra: [String: String] = [:]) async throws -> Result {
        let (status, stdout, stderr) = try await runProcess(
            Self.executable, arguments, input: input, environment: processEnvironment.merging(extra) { $1 },
            directory: directory)
        return Result(status: status, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }

    func file(_ name: String) -> String { directory + "/" + name }

    /// Runs SQL on an SQLite file in the scratch directory with Python's `sqlite3` (an independent
    /// client) and returns the rows, one per line, columns separated by `|`.
    @discardableResult
    func sqlite(_ database: String, _ sql: String) async throws -> String {
        let script = """
            import sqlite3, sys
            connection = sqlite3.connect(sys.argv[1])
            rows = connection.execute(sys.argv[2]).fetchall()
            connection.commit()
            print("\\n".join("|".join("" if value is None else str(value) for value in row) for row in rows))
            """
        let (status, output, _) = try await runProcess("/usr/bin/env", ["python3", "-c", script, file(database), sql])
        guard status == 0 else { throw CLIFailure(description: "sqlite3 failed: \(sql)") }
        return String(decoding: output, as: UTF8.self)
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
}
