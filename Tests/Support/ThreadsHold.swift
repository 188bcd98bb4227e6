import Dispatch
public import WardenCore

/// Holds `slots` places of a ``WorkerThreads`` (its running threads, then its queue) with jobs that block
/// until ``release()``: with every place held, the next job offered must be refused, deterministically and
/// without timing anything.
public final class ThreadsHold: Sendable {
    public struct NotFilled: Error {}

    private let gate: DispatchSemaphore
    private let slots: Int
    private let jobs: Task<Void, Never>

    /// Offers `slots` blocking jobs and returns once `threads` counts all of them (running or waiting).
    public init(_ threads: WorkerThreads, slots: Int) async throws {
        let gate = DispatchSemaphore(value: 0)
        self.gate = gate
        self.slots = slots
        jobs = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<slots { group.addTask { _ = try? await threads.run { gate.wait() } } }
            }
        }
        // Admission happens as each task starts; wait for it (bounded, so a broken pool fails the test
        // instead of hanging it).
        var polls = 0
        while threads.load < slots, polls < 10_000 {
            try await Task.sleep(for: .milliseconds(1))
            polls += 1
        }
        guard threads.load >= slots else {
            open()
            throw NotFilled()
        }
    }

    /// Lets the held jobs finish and waits until they have.
    public func release() async {
        open()
        await jobs.value
    }

    private func open() {
        for _ in 0..<slots { gate.signal() }
    }
}
