import Dispatch
import Foundation
import Synchronization

/// A few dedicated threads for work that blocks or runs long (password hashing), kept away from Swift's
/// cooperative thread pool.
///
/// On Linux the cooperative pool and Dispatch's global queues share worker threads, so long work on a
/// Dispatch queue can starve every other task (a test proves it). These threads belong to no pool; at most
/// `count` jobs run at once and the rest wait in order.
///
/// With a `queueLimit`, at most that many jobs wait behind the running ones: a job offered beyond it is
/// refused at once with ``Saturated``, so a flood of slow work turns into quick refusals instead of an
/// ever longer wait (and ever more memory). Without one the queue is unbounded (the command line: one
/// caller, who would rather wait).
public final class WorkerThreads: Sendable {
    /// A job offered while every thread was busy and the queue full. Nothing of the job ran.
    public struct Saturated: Error, Sendable, Equatable, CustomStringConvertible {
        public init() {}
        public var description: String { "the worker threads are busy and their queue is full" }
    }

    private struct State {
        /// Waiting jobs; each returns the resumption of its caller, run once the job has left the count.
        var waiting: [@Sendable () -> @Sendable () -> Void] = []
        /// Jobs accepted and not finished: running or waiting.
        var admitted = 0
    }

    private let state = Mutex(State())
    private let pending = DispatchSemaphore(value: 0)
    /// How many jobs run at once.
    public let count: Int
    /// How many jobs may wait behind the running ones (`nil`: no limit).
    public let queueLimit: Int?

    /// Starts `count` threads named `name-1`, `name-2`, … . They live as long as the process.
    ///
    /// - Parameters:
    ///   - count: jobs run at once (at least 1).
    ///   - queueLimit: jobs that may wait behind them (at least 0), or `nil` for no limit.
    public init(count: Int, queueLimit: Int? = nil, name: String) {
        self.count = max(1, count)
        self.queueLimit = queueLimit.map { max(0, $0) }
        for index in 1...self.count {
            let thread = Thread { [self] in
                Thread.current.name = "\(name)-\(index)"
                work()
            }
            thread.start()
        }
    }

    /// Jobs accepted and not yet finished, running or waiting (for gauges and tests).
    public var load: Int { state.withLock { $0.admitted } }

    /// Runs `job` on one of the threads and returns its result.
    ///
    /// - Throws: ``Saturated`` at once, without running `job`, when `count` jobs run and `queueLimit` wait;
    ///   otherwise what `job` throws.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                if let queueLimit, state.admitted >= count + queueLimit { return false }
                state.admitted += 1
                state.waiting.append {
                    let result = Result { try job() }
                    return { continuation.resume(with: result) }
                }
                return true
            }
            guard accepted else { return continuation.resume(throwing: Saturated()) }
            pending.signal()
        }
    }

    private func work() {
        while true {
            pending.wait()
            let job = state.withLock { $0.waiting.removeFirst() }
            let resume = job()
            // The slot is free before the caller resumes: a caller that goes on to offer another job
            // finds room for it.
            state.withLock { $0.admitted -= 1 }
            resume()
        }
    }
}
