import Foundation
import Synchronization
import WardenTestSupport

/// Runs child processes without blocking the cooperative pool: every wait happens on a thread of its
/// own.
enum ChildProcess {
    /// Runs `executable` to the end and returns its status and output.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: Data, stderr: Data) {
        try await runProcess(executable, arguments)
    }

    /// Runs blocking `body` on a new thread and resumes with its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await offPool(body)
    }
}

/// A Python server for one test: started with a script, ready once it has printed its port, stopped
/// (SIGTERM, then SIGKILL) by ``stop()`` or, as a last resort, when it is deallocated.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in `start` and only read after; the exit flag is a semaphore.
    let port: Int
    let stderrPath: String
    private let process: Process
    private let exited: DispatchSemaphore

    private init(port: Int, process: Process, exited: DispatchSemaphore, stderrPath: String) {
        self.port = port
        self.process = process
        self.exited = exited
        self.stderrPath = stderrPath
    }

    /// Starts `python3 script arguments…` and waits (at most 30 s) for the port on its first line.
    static func start(script: String, arguments: [String], logDirectory: String) async throws -> ServerProcess {
        try await Python.require()
        let stderrPath = "\(logDirectory)/\(URL(fileURLWithPath: script).lastPathComponent).stderr"
        return try await ChildProcess.onThread {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [Python.executable, "-u", script] + arguments
            let stdout = Pipe.closedOnExec()
            process.standardOutput = stdout
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            process.standardInput = FileHandle.nullDevice
            let exited = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in exited.signal() }
            try process.run()
            // A server that never prints its port is killed, which ends the read below.
            let ready = DispatchSemaphore(value: 0)
            let pid = process.processIdentifier
            Thread {
                if ready.wait(timeout: .now() + 30) == .timedOut { kill(pid, SIGKILL) }
            }.start()
            var line = Data()
            while true {
                let byte = try stdout.fileHandleForReading.read(upToCount: 1) ?? Data()
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line += byte
            }
            ready.signal()
            guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
                kill(pid, SIGKILL)
                let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                throw SetupError("\(script) did not start: \(errors.suffix(2000))")
            }
            return ServerProcess(port: port, process: process, exited: exited, stderrPath: stderrPath)
        }
    }

    /// Stops the server and waits until it has exited.
    func stop() async {
        let process = process
        let exited = exited
        _ = try? await ChildProcess.onThread {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 5)
            }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
