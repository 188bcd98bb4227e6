import Synchronization

/// Waits for `operation` at most `limit`, then returns `false` and leaves it running.
///
/// For shutdown paths only: closing a pool whose server went away must not keep a process from exiting.
/// The operation runs in an unstructured task, so an operation that ignores cancellation cannot hold the
/// caller either.
public func finishes(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
    await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        let resumed = Mutex(false)
        let resume: @Sendable (Bool) -> Void = { finished in
            guard
                resumed.withLock({ state in
                    defer { state = true }
                    return !state
                })
            else { return }
            continuation.resume(returning: finished)
        }
        Task {
            await operation()
            resume(true)
        }
        Task {
            try? await Task.sleep(for: limit)
            resume(false)
        }
    }
}
