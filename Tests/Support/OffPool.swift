public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking work (waiting for a child process, reading its pipes) on a thread of its own, so tests
/// that do it never hold one of the cooperative pool's few threads while other tests need them.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// What a finished child process left behind.
public struct ChildOutput: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    /// Whether the child was killed because it ran past its timeout.
    public var timedOut: Bool
}

/// The child could not be started at all (no such executable, say).
public struct ChildLaunchFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `executable` with `arguments`, feeding `input`, and returns its exit status, standard output and
/// standard error, without blocking the cooperative pool.
///
/// A child that runs past `timeout` is sent `SIGTERM` and, still there two seconds later, `SIGKILL`: a
/// test can fail, but never hang (its status is then the signal's, or -1 when its end was not seen, which
/// no test takes for success).
public func runProcess(
    _ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil,
    directory: String? = nil, timeout: Duration = .seconds(600)
) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    let output = try await runChild(
        executable, arguments, input: input, environment: environment, directory: directory, timeout: timeout)
    return (output.status, output.stdout, output.stderr)
}

/// ``runProcess(_:_:input:environment:directory:timeout:)``, also telling whether the timeout ended it.
public func runChild(
    _ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil,
    directory: String? = nil, timeout: Duration = .seconds(600)
) async throws -> ChildOutput {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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
            throw ChildLaunchFailure(description: "could not start \(executable) \(arguments.joined(separator: " ")): \(error)")
        }
        // Both outputs are read, and standard input written, on threads of their own, so a child that
        // fills one pipe while another is pending (a large image in, a chatty error stream) cannot stall.
        let deadline = DispatchTime.now() + timeout.timeInterval
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

        // Foundation learns of the child's exit when a socket the child inherited closes; a process the
        // child left behind, or one another test started at that moment (which can inherit the socket as it
        // could a pipe), keeps it open. So the child's end is also read from /proc while it waits to be
        // reaped, and every wait is bounded.
        func awaitExit(until limit: DispatchTime) -> Int32? {
            while true {
                if exited.wait(timeout: min(.now() + .milliseconds(200), limit)) == .success { return process.terminationStatus }
                if let status = exitedUnreaped(process.processIdentifier) { return status }
                if DispatchTime.now() >= limit { return nil }
            }
        }
        var timedOut = false
        var status = awaitExit(until: deadline)
        if status == nil {
            timedOut = true
            process.terminate()
            status = awaitExit(until: .now() + 2)
            if status == nil {
                kill(process.processIdentifier, SIGKILL)
                status = awaitExit(until: .now() + 3)
            }
        }
        // A descendant that outlives the child can hold its pipes open too: their end is awaited until the
        // deadline (a few seconds more once the child was killed), and what was read is returned then.
        if pipes.wait(timeout: timedOut ? .now() + 3 : deadline) == .timedOut { timedOut = true }
        // A child whose end was not seen at all has no status: -1.
        return ChildOutput(status: status ?? -1, stdout: output.get(), stderr: errors.get(), timedOut: timedOut)
    }
}

/// The status of a child that has exited and is not reaped yet (a zombie), as `Process.terminationStatus`
/// gives it (the exit code, or the signal that ended it), from `/proc/<pid>/stat`; nil while it runs.
func exitedUnreaped(_ pid: Int32) -> Int32? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
        return nil
    }
    // After the name: the state (field 3 of proc(5)) ... the exit code in waitpid's form (field 52).
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.first == "Z", fields.count >= 50, let raw = Int32(fields[49].trimmingCharacters(in: .whitespacesAndNewlines)) else {
        return nil
    }
    return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
}

/// Bytes read from a pipe on one thread and picked up on another (what has arrived, once it ends).
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
