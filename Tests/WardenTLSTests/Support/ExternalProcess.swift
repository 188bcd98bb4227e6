import Foundation
import Synchronization
import WardenTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished child process left behind.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process was killed because it ran past its timeout.
    var timedOut: Bool

    /// Standard output and standard error together, for assertions and failure messages.
    var combined: String { stdout + "\n" + stderr }
}

/// Runs external programs (`openssl`, `python3`) for the tests.
///
/// The child is started and waited for on a thread of its own, so a test never holds one of the few
/// threads of Swift's cooperative pool while it waits, and its pipes are drained on further threads so
/// a chatty child cannot stall. Every run has a timeout after which the child is sent `SIGTERM` and,
/// if it is still there two seconds later, `SIGKILL`: a test can fail, but never hang.
enum ExternalProcess {
    struct LaunchFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(
        _ executable: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(30)
    ) async throws -> ProcessOutput {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, input: input, timeout: timeout) })
            }.start()
        }
    }

    /// Runs `program` found on `PATH` through `/usr/bin/env`; exit status 127 means it was not found.
    static func runOnPath(
        _ program: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(30)
    ) async throws -> ProcessOutput {
        try await run("/usr/bin/env", [program] + arguments, input: input, timeout: timeout)
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], input: Data, timeout: Duration
    ) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe.closedOnExec()
        let stdout = Pipe.closedOnExec()
        let stderr = Pipe.closedOnExec()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw LaunchFailure(description: "could not start \(executable) \(arguments.joined(separator: " ")): \(error)")
        }

        let pipes = DispatchGroup()
        let output = Collected()
        let errors = Collected()
        for (pipe, sink) in [(stdout, output), (stderr, errors)] {
            pipes.enter()
            Thread {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                pipes.leave()
            }.start()
        }
        pipes.enter()
        Thread {
            // A child that exits early closes its end; the write error is of no interest then.
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
            pipes.leave()
        }.start()

        var timedOut = false
        if exited.wait(timeout: .now() + timeout.timeInterval) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        pipes.wait()
        process.waitUntilExit()
        return ProcessOutput(
            status: process.terminationStatus,
            stdout: String(decoding: output.get(), as: UTF8.self),
            stderr: String(decoding: errors.get(), as: UTF8.self),
            timedOut: timedOut)
    }
}

/// Bytes read from a pipe on one thread and picked up on another.
private final class Collected: Sendable {
    private let data = Mutex(Data())
    func set(_ bytes: Data) { data.withLock { $0 = bytes } }
    func get() -> Data { data.withLock { $0 } }
}

extension Duration {
    fileprivate var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
