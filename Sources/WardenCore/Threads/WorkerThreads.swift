import Dispatch
import Foundation
import Synchronization

/// A few dedicated threads for work that blocks or runs long (password hashing), kept away from Swift's
/// cooperative thread pool.
///
/// On Linux the cooperative pool and Dispatch's global queues share worker threads, so long work on a
/// Dispatch queue can starve every other task (a test proves it). These threads belong to no pool; at most
/// `count` jobs run at once and the rest wait in order.
public final class WorkerThreads: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let pending = DispatchSemaphore(value: 0)
    public let count: Int

    /// Starts `count` threads named `name-1`, `name-2`, … . They live as long as the process.
    public init(count: Int, name: String) {
        self.count = max(1, count)
        for index in 1...self.count {
            let thread = Thread { [self] in
                Thread.current.name = "\(name)-\(index)"
                work()
            }
            thread.start()
        }
    }

    /// Runs `job` on one of the threads and returns its result.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            jobs.withLock { $0.append { continuation.resume(with: Result { try job() }) } }
            pending.signal()
        }
    }

    private func work() {
        while true {
            pending.wait()
            let job = jobs.withLock { $0.removeFirst() }
            job()
        }
    }
}
