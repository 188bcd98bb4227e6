public import Foundation
import Synchronization

/// Runs blocking work (waiting for a child process, reading its pipes) on a thread of its own, so tests
/// that do it never hold one of the cooperative pool's few threads while other tests need them.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Runs `executable` with `arguments`, feeding `input`, and returns its exit status, standard output and
/// standard error, without blocking the cooperative pool.
public func runProcess(
    _ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil,
    directory: String? = nil
) async throws -> (status: Int32, stdout: Data, stderr: Data) {
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
        try process.run()
        // Standard input is written, and standard error read, on threads of their own, so a child that
        // fills one pipe while another is pending (a large image in, a chatty error stream) cannot stall.
        let done = DispatchGroup()
        let errors = Mutex(Data())
        done.enter()
        Thread {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            done.leave()
        }.start()
        done.enter()
        Thread {
            // A child that exits early closes its end; the write error is of no interest then.
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
            done.leave()
        }.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, output, errors.withLock { $0 })
    }
}
