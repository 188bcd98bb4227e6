import Foundation
import Logging
public import NIOCore
import Synchronization

/// Log lines written to a file descriptor by a thread of their own: a request formats its line and
/// appends it to a buffer, and never waits for the terminal, a pipe or a disk.
///
/// The writer wakes when the buffer stops being empty, lets lines gather for `interval`, and writes them
/// in one call. A buffer that reaches `capacity` (a reader that stopped reading) drops further lines and
/// says how many when it can write again: the server slows down for no log reader.
public final class LogWriter: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var dropped = 0
        var stopped = false
        var sleeping = false
    }

    private let state: Mutex<State>
    /// Held while writing, so `flush()` and the thread never interleave their batches.
    private let output = Mutex(())
    private let wake = Semaphore()
    private let descriptor: Int32
    private let capacity: Int
    private let interval: Duration

    /// - Parameters:
    ///   - descriptor: Where lines go (default standard error).
    ///   - capacity: Bytes held at most before lines are dropped.
    ///   - interval: How long lines gather before a write.
    public init(descriptor: Int32 = 2, capacity: Int = 8 << 20, interval: Duration = .milliseconds(20)) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.interval = interval
        var initial = State()
        initial.pending.reserveCapacity(64 << 10)
        state = Mutex(initial)
        let thread = Thread { [self] in run() }
        thread.name = "warden-log"
        thread.start()
    }

    /// Appends one line (its bytes, newline included); never blocks on the output.
    public func append(_ line: String) {
        var line = line
        line.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends one line already encoded (newline included); never blocks on the output.
    public func append(_ line: ByteBuffer) {
        line.withUnsafeReadableBytes { append(bytes: $0) }
    }

    private func append(bytes: UnsafeRawBufferPointer) {
        let signal = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            guard state.pending.count + bytes.count <= capacity else {
                state.dropped += 1
                return false
            }
            state.pending.append(contentsOf: bytes)
            if state.sleeping {
                state.sleeping = false
                return true
            }
            return false
        }
        if signal { wake.signal() }
    }

    /// Writes what is buffered now (at shutdown, or before a test reads the output).
    public func flush() {
        output.withLock { _ in
            write(takeBatch().bytes)
        }
    }

    /// Stops the thread after a last write.
    public func stop() {
        state.withLock { $0.stopped = true }
        wake.signal()
        flush()
    }

    private func takeBatch() -> (bytes: [UInt8], dropped: Int) {
        state.withLock { state in
            var batch: [UInt8] = []
            batch.reserveCapacity(64 << 10)
            swap(&batch, &state.pending)
            var dropped = 0
            swap(&dropped, &state.dropped)
            if dropped > 0 { batch += Array("warden: \(dropped) log lines dropped (the log output was not keeping up)\n".utf8) }
            return (batch, dropped)
        }
    }

    private func run() {
        while true {
            let idle = state.withLock { state -> Bool in
                if state.pending.isEmpty && !state.stopped { state.sleeping = true }
                return state.sleeping
            }
            if idle { wake.wait() }
            if state.withLock({ $0.stopped }) { return }
            let nanoseconds = interval.components.attoseconds / 1_000_000_000 + interval.components.seconds * 1_000_000_000
            var pause = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            nanosleep(&pause, nil)
            output.withLock { _ in write(takeBatch().bytes) }
        }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// A counting semaphore on a mutex and condition variable (the writer thread's wake-up).
private final class Semaphore: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0

    func signal() {
        condition.lock()
        count += 1
        condition.signal()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while count == 0 { condition.wait() }
        count -= 1
        condition.unlock()
    }
}
