import Logging
import Synchronization
import WardenDelivery

/// Collects every ``DeliveryEvent`` a sender reports.
final class EventRecorder: Sendable {
    private let events = Mutex<[DeliveryEvent]>([])

    var all: [DeliveryEvent] { events.withLock { $0 } }

    var handler: DeliveryEventHandler {
        { event in self.events.withLock { $0.append(event) } }
    }
}

/// A swift-log handler that keeps every line (message and metadata) at every level, so tests can
/// check what would have been logged.
final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined(separator: "\n") }

    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let label: String
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = event.error.map { " error=\($0)" } ?? ""
            recorder.append("\(event.level) \(event.message) \(fields)\(error)")
        }
    }
}
