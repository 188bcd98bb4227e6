import Foundation
import WardenTestSupport

/// What a finished child process left behind, as text.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process was killed because it ran past its timeout.
    var timedOut: Bool

    /// Standard output and standard error together, for assertions and failure messages.
    var combined: String { stdout + "\n" + stderr }
}

/// Runs external programs (`openssl`, `python3`) for the tests, through the test support's
/// ``runChild(_:_:input:environment:directory:timeout:)``: off the cooperative pool, pipes drained on
/// threads of their own, and killed at its timeout (30 s unless told), so a test can fail but never hang.
enum ExternalProcess {
    static func run(
        _ executable: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(30)
    ) async throws -> ProcessOutput {
        let output = try await runChild(executable, arguments, input: input, timeout: timeout)
        return ProcessOutput(
            status: output.status, stdout: String(decoding: output.stdout, as: UTF8.self),
            stderr: String(decoding: output.stderr, as: UTF8.self), timedOut: output.timedOut)
    }

    /// Runs `program` found on `PATH` through `/usr/bin/env`; exit status 127 means it was not found.
    static func runOnPath(
        _ program: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(30)
    ) async throws -> ProcessOutput {
        try await run("/usr/bin/env", [program] + arguments, input: input, timeout: timeout)
    }
}
