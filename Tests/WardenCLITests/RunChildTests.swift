import Foundation
import Testing
import WardenTestSupport

/// The tests' one way of running a child process: its output comes back whole, and a child (or a
/// descendant holding its pipes) that runs past the timeout ends the wait instead of hanging the suite.
@Suite struct RunChildTests {
    @Test func outputErrorsInputAndStatusComeBack() async throws {
        let result = try await runChild("/bin/sh", ["-c", "cat; echo to-stderr >&2; exit 3"], input: Data("from stdin".utf8))
        #expect(result.status == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "from stdin")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "to-stderr\n")
        #expect(!result.timedOut)
    }

    @Test func aChildPastItsTimeoutIsKilled() async throws {
        let started = ContinuousClock.now
        let result = try await runChild("/bin/sleep", ["60"], timeout: .seconds(1))
        #expect(result.timedOut)
        #expect(result.status != 0)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// The child exits at once, but a process it left behind keeps the output pipe's write end: the pipe
    /// never ends, and the wait stops at the deadline.
    @Test func aDescendantHoldingThePipeEndsTheWaitAtTheDeadline() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("run-child-\(UUID().uuidString)").path
        defer { killRecorded(pidFile) }
        let started = ContinuousClock.now
        let result = try await runChild("/bin/sh", ["-c", "sleep 60 & echo $! > \"$0\"", pidFile], timeout: .seconds(2))
        #expect(result.timedOut)
        #expect(ContinuousClock.now - started >= .seconds(2))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// Foundation hears of a child's exit when a socket the child inherited closes; a process that holds
    /// that socket (here one the child left behind with its output elsewhere, in CI one that another test
    /// started at that moment) hid the exit until it ended. The child's status is read from /proc instead.
    @Test func anExitThatFoundationDoesNotHearOfIsStillSeen() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("run-child-\(UUID().uuidString)").path
        defer { killRecorded(pidFile) }
        let started = ContinuousClock.now
        let result = try await runChild(
            "/bin/sh", ["-c", "sleep 60 > /dev/null 2>&1 & echo $! > \"$0\"; echo done; exit 5", pidFile], timeout: .seconds(30))
        #expect(!result.timedOut)
        #expect(result.status == 5)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "done\n")
        // Without the look at /proc the wait lasted until the sleep ended (60 s, past the 30 s timeout).
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aMissingExecutableIsALaunchFailure() async throws {
        await #expect(throws: ChildLaunchFailure.self) {
            _ = try await runChild("/nonexistent/program", [])
        }
    }

    /// Ends the process whose id the test's shell wrote to `pidFile`.
    func killRecorded(_ pidFile: String) {
        if let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: pidFile)
    }
}
