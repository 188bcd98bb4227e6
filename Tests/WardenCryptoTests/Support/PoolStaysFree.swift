import Dispatch
import Foundation
import Synchronization

/// Runs `count` jobs that each block on `gate` inside the code under test, and reports whether a
/// cooperative task still ran while they were all blocked (it cannot when the jobs hold the cooperative
/// pool's threads, which number fewer than `count` here), then releases them and returns their results.
///
/// A safety valve releases the jobs after 180 s so a regression fails instead of hanging; it is generous
/// because under the full suite on two cores the cooperative pool can be busy with other tests for tens of
/// seconds (a 20 s valve once fired in CI before the checking task was scheduled again).
func poolStaysFree<T: Sendable>(
    _ count: Int, gate: DispatchSemaphore, _ job: @escaping @Sendable (Int) async throws -> T
) async throws -> (poolWasFree: Bool, results: [T]) {
    let released = Atomic<Bool>(false)
    let jobs = Task {
        try await withThrowingTaskGroup(of: T.self) { group in
            for index in 0..<count { group.addTask { try await job(index) } }
            return try await group.reduce(into: [T]()) { $0.append($1) }
        }
    }
    let valve = Thread {
        Thread.sleep(forTimeInterval: 180)
        if !released.exchange(true, ordering: .relaxed) { for _ in 0..<count { gate.signal() } }
    }
    valve.start()
    try await Task.sleep(for: .milliseconds(50))
    for _ in 0..<20 { await Task.yield() }
    let poolWasFree = !released.load(ordering: .relaxed)
    if !released.exchange(true, ordering: .relaxed) { for _ in 0..<count { gate.signal() } }
    return (poolWasFree, try await jobs.value)
}
