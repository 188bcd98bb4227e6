import Foundation
public import Logging
import NIOCore

/// How `warden serve` writes its log lines.
public enum LogFormat: String, Sendable, CaseIterable {
    /// For people at a terminal: `<time> <level> <label>: <message> key=value …`.
    case text
    /// One JSON object per line, for a log collector: `{"time":…,"level":…,"label":…,"message":…,
    /// "request_id":…,"trace_id":…, …metadata}`.
    case json
}

/// swift-log's handler for Warden's output: one line per entry, handed to a ``LogWriter``.
///
/// A line is formatted on the caller's thread and never waits for the output. Metadata comes from the
/// logger, then the metadata provider (the request's ids, see ``RequestLogMetadata``), then the entry
/// itself; later sources win.
///
/// - Important: A line is one line whatever the metadata holds. JSON lines escape quotes, backslashes and
///   every control character (U+0000–U+001F); text lines show control characters as `\n`, `\u{1b}` and so
///   on, so a value can never start a line of its own (log injection). A Swift `String` is valid Unicode
///   by construction: bytes that were not UTF-8 were replaced by U+FFFD when the string was made.
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let writer: LogWriter
    let format: LogFormat

    public init(label: String, writer: LogWriter, level: Logger.Level = .info, format: LogFormat = .text, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.writer = writer
        self.format = format
        self.metadataProvider = metadataProvider
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Later sources win. Empty ones are skipped (outside a request's task the provider gives none, as
        // for the request line itself), and the line's own metadata, usually the most, is the base.
        var merged = event.metadata ?? [:]
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { current, _ in current } }
        if !metadata.isEmpty { merged.merge(metadata) { current, _ in current } }
        switch format {
        case .text:
            writer.append(Self.textLine(time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
        case .json:
            writer.append(Self.jsonLine(time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
        }
    }

    /// `2026-11-30T01:02:03.456Z info warden: request client=127.0.0.1 …`, metadata sorted by key.
    static func textLine(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = Self.time(time)
        line += " "
        line += level.rawValue
        line += " "
        line += label
        line += ": "
        line += Self.escapingControls(message)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += Self.escapingControls(key)
            line += "="
            line += Self.escapingControls(value.description)
        }
        line += "\n"
        return line
    }

    /// The fields every JSON line starts with; metadata under one of these names is written as
    /// `metadata.<name>` so that no key appears twice.
    static let fixedFields: Set<String> = ["time", "level", "label", "message"]
    /// Metadata written right after the fixed fields (when present), so that a reader sees them first.
    static let leadingMetadata = ["request_id", "trace_id"]

    /// `{"time":"2026-11-30T01:02:03.456Z","level":"info","label":"warden","message":"request",
    /// "request_id":"…","trace_id":"…",…}` and a newline: the request's ids first, then the other
    /// metadata sorted by key. Integers stay numbers; nested metadata becomes JSON objects and arrays.
    static func jsonLine(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        buffer.writeString("{\"time\":\"")
        Self.writeTime(time, into: &buffer)
        buffer.writeString("\",\"level\":\"")
        buffer.writeString(level.rawValue)
        buffer.writeString("\",\"label\":")
        JSONWriter.writeString(label, into: &buffer)
        buffer.writeString(",\"message\":")
        JSONWriter.writeString(message, into: &buffer)
        for key in leadingMetadata {
            guard let value = metadata[key] else { continue }
            field(key, value, into: &buffer)
        }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !leadingMetadata.contains(key) {
            field(isFixedField(key) ? "metadata." + key : key, value, into: &buffer)
        }
        buffer.writeString("}\n")
        return buffer
    }

    /// Whether `key` is one of ``fixedFields`` (compared, not hashed: one call per metadata key per line).
    private static func isFixedField(_ key: String) -> Bool {
        key == "time" || key == "level" || key == "label" || key == "message"
    }

    private static func field(_ key: String, _ value: Logger.Metadata.Value, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: ","))
        JSONWriter.writeString(key, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        write(value, into: &buffer)
    }

    private static func write(_ value: Logger.Metadata.Value, into buffer: inout ByteBuffer) {
        switch value {
        case .string(let text):
            JSONWriter.writeString(text, into: &buffer)
        case .stringConvertible(let convertible):
            // Integers as numbers (status, ms); anything else as its description, a string. `Int` first:
            // the request line's two numbers, without a look-up of the protocol's conformances.
            if let integer = convertible as? Int {
                buffer.writeString(String(integer))
            } else if let integer = convertible as? any BinaryInteger {
                buffer.writeString(String(describing: integer))
            } else {
                JSONWriter.writeString(convertible.description, into: &buffer)
            }
        case .dictionary(let dictionary):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                JSONWriter.writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        case .array(let array):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        }
    }

    /// `text` with every control character (C0 and DEL) shown as a Swift escape, so it stays on its line.
    static func escapingControls(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                escaped += scalar.escaped(asASCII: true)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// ``time(_:)``'s 24 bytes, written into `buffer` (no string is made: one per request line).
    static func writeTime(_ date: Date, into buffer: inout ByteBuffer) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let fraction = Int(milliseconds - seconds * 1000)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 24) { bytes in
            // The timestamp's 20 bytes end with `Z`: the fraction goes before it.
            _ = JSONResponse.writeTimestamp(Date(timeIntervalSince1970: Double(seconds)), to: bytes)
            bytes[19] = UInt8(ascii: ".")
            bytes[20] = UInt8(ascii: "0") + UInt8(fraction / 100)
            bytes[21] = UInt8(ascii: "0") + UInt8(fraction / 10 % 10)
            bytes[22] = UInt8(ascii: "0") + UInt8(fraction % 10)
            bytes[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `2026-11-30T01:02:03.456Z`.
    static func time(_ date: Date) -> String {
        var buffer = ByteBuffer()
        writeTime(date, into: &buffer)
        return String(buffer: buffer)
    }
}
