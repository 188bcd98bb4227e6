import Foundation

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

    @discardableResult
    func run(_ arguments: [String], input: Data = Data(), environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var base = ProcessInfo.processInfo.environment
        for key in base.keys where key.hasPrefix("WARDEN_") || key.hasPrefix("DIGITAL_TWIN_") { base[key] = nil }
        process.environment = base.merging(environment) { $1 }.merging(extra) { $1 }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    func file(_ name: String) -> String { directory + "/" + name }

    /// Runs SQL on an SQLite file in the scratch directory with Python's `sqlite3` (an independent
    /// client) and returns the rows, one per line, columns separated by `|`.
    @discardableResult
    func sqlite(_ database: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sqlite3, sys
            connection = sqlite3.connect(sys.argv[1])
            rows = connection.execute(sys.argv[2]).fetchall()
            connection.commit()
            print("\\n".join("|".join("" if value is None else str(value) for value in row) for row in rows))
            """, file(database), sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIFailure(description: "sqlite3 failed: \(sql)") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
}
