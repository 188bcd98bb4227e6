import Foundation
public import Logging
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
        line.withUTF8 { bytes in
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

/// swift-log's handler for Warden's output: one line per entry, `<time> <level> <label>: <message> key=value …`,
/// handed to a ``LogWriter``.
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let writer: LogWriter

    public init(label: String, writer: LogWriter, level: Logger.Level = .info) {
        self.label = label
        self.writer = writer
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.time(Date())
        line += " "
        line += event.level.rawValue
        line += " "
        line += label
        line += ": "
        line += event.message.description
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += "\n"
        writer.append(line)
    }

    /// `2026-11-30T01:02:03.456Z`.
    static func time(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = JSONResponse.timestamp(Date(timeIntervalSince1970: Double(milliseconds / 1000)))
        let fraction = Int(milliseconds % 1000)
        let digits = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return seconds.dropLast() + "." + digits + "Z"
    }
}
