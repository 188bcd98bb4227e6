import Foundation
import Testing
import WardenTestSupport

/// The tests' pipes are not inherited by children that other tests start meanwhile (a CI run once hung
/// reading a finished child's output, its write end held by a Redis server started at the same moment).
@Suite struct ClosedOnExecPipeTests {
    /// Foundation's `Process` closes the descriptors it finds open before it spawns, so a pipe created
    /// while another thread is between that look and the spawn leaks into that child; a plain spawn, which
    /// closes nothing, shows what such a child inherits.
    @Test func anotherChildDoesNotInheritThePipe() throws {
        let pipe = Pipe.closedOnExec()
        let plain = Pipe()
        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("10"), nil]
        defer { for argument in arguments { free(argument) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, arguments, environ) == 0)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let held = try heldPipes(pid)
        // Foundation's own pipe is inherited (the control: the check can see a leak).
        #expect(held.contains(try inode(plain.fileHandleForWriting)))
        #expect(!held.contains(try inode(pipe.fileHandleForWriting)))
        #expect(!held.contains(try inode(pipe.fileHandleForReading)))
    }

    @Test func itsOwnChildStillGetsItAndTheReaderSeesTheEnd() async throws {
        let pipe = Pipe.closedOnExec()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/echo")
        child.arguments = ["through the pipe"]
        child.standardOutput = pipe
        try child.run()
        let output = try await offPool { pipe.fileHandleForReading.readDataToEndOfFile() }
        child.waitUntilExit()
        #expect(String(decoding: output, as: UTF8.self) == "through the pipe\n")
    }

    func inode(_ handle: FileHandle) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(handle.fileDescriptor)")
    }

    func heldPipes(_ pid: Int32) throws -> Set<String> {
        let directory = "/proc/\(pid)/fd"
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        return Set(entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)") }.filter { $0.hasPrefix("pipe:") })
    }
}
