import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Progress on standard error: a bar with rows/s and the time left on a terminal, a plain line every few
/// seconds otherwise (logs, CI), and nothing when quiet.
final class ProgressMeter: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let terminal: Bool
    private let quiet: Bool
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now
    private(set) var done = 0
    private let lock = NSLock()

    init(label: String, total: Int, quiet: Bool) {
        self.label = label
        self.total = max(total, 0)
        self.quiet = quiet
        terminal = isatty(2) == 1
    }

    func advance(by rows: Int) {
        lock.withLock {
            done += rows
            let now = ContinuousClock.now
            let interval: Duration = terminal ? .milliseconds(200) : .seconds(5)
            guard !quiet, now - last >= interval else { return }
            last = now
            emit(final: false)
        }
    }

    func finish() {
        lock.withLock {
            guard !quiet else { return }
            emit(final: true)
        }
    }

    private func emit(final: Bool) {
        let elapsed = Self.seconds(ContinuousClock.now - start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let remaining = rate > 0 && total > done ? Double(total - done) / rate : 0
        let rateText = "\(Int(rate.rounded())) rows/s"
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = "\r\(label) [\(bar)] \(done)/\(total) \(rateText) ETA \(Self.clock(remaining))\u{1B}[K"
            FileHandle.standardError.write(Data((final ? line + "\n" : line).utf8))
        } else {
            let line = "\(label): \(done)/\(total) rows (\(Int((fraction * 100).rounded()))%), \(rateText)\(final ? ", done in \(Self.clock(elapsed))" : ", about \(Self.clock(remaining)) left")\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}
