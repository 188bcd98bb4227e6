import Foundation
import Logging
import NIOCore
import Testing
import WardenTestSupport

@testable import WardenHTTP

/// Log lines as a collector reads them: one JSON object per line whatever the metadata holds, the request's
/// ids first, and a trace id only from a valid `traceparent`.
struct LogLineTests {
    static let time = Date(timeIntervalSince1970: 1_796_000_000.25)

    static func json(_ metadata: Logger.Metadata, message: String = "request") -> String {
        let buffer = BufferedLogHandler.jsonLine(time: time, level: .info, label: "warden", message: message, metadata: metadata)
        return String(buffer: buffer)
    }

    static func parse(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aLineStartsWithItsFixedFieldsAndTheRequestsIds() throws {
        let line = Self.json(["status": .stringConvertible(401), "request_id": "r1", "trace_id": "t1", "method": "POST", "ms": .stringConvertible(12)])
        #expect(line == #"{"time":"2026-11-30T00:53:20.250Z","level":"info","label":"warden","message":"request","request_id":"r1","trace_id":"t1","method":"POST","ms":12,"status":401}"# + "\n")
    }

    /// A line's time, written into the line without a string of its own, against Foundation's ISO 8601
    /// format with fractional seconds (milliseconds, rounded down), over a wide range of instants.
    @Test func theTimeMatchesFoundationsFormat() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, 0.001, 0.999, 59.9995, 86_399.5, 951_782_400.042, 1_796_000_000.25, 253_402_300_799.999]
        let random = (0..<2_000).map { _ in Double(Int64.random(in: 0...253_402_300_799_999, using: &generator)) / 1000 }
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for seconds in fixed + random {
            // Foundation rounds to the nearest millisecond; the log line truncates: compare at an exact one.
            let date = Date(timeIntervalSince1970: (seconds * 1000).rounded(.down) / 1000 + 0.000_1)
            #expect(BufferedLogHandler.time(date) == date.formatted(format), "\(seconds)")
        }
    }

    /// Threat: a value an attacker chose (a username, a header, an error text) that ends the line or the
    /// string and forges a field or a whole line of its own.
    @Test(arguments: [
        "quote \" and backslash \\ and \\\" both",
        "new\nline\r\n{\"level\":\"critical\"}",
        "nul \u{0} bell \u{7} escape \u{1B}[31m tab \t unit \u{1F} del \u{7F}",
        "line separator \u{2028} paragraph \u{2029} emoji 🔑 and é",
        String(decoding: [0x61, 0xFF, 0xFE, 0xC0, 0x80, 0x62], as: UTF8.self),
        "}\n",
        "",
    ])
    func hostileMetadataStaysOneValidLine(_ value: String) throws {
        let line = Self.json(["client": .string(value), value: .string("as a key"), "nested": .dictionary(["list": .array([.string(value)])])], message: value)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().utf8.allSatisfy { $0 >= 0x20 }, "a raw control character in \(line.debugDescription)")
        let object = try Self.parse(line)
        #expect(object["message"] as? String == value)
        #expect(object["client"] as? String == value)
        #expect(object[value] as? String == "as a key")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect((nested["list"] as? [String])?.first == value)
    }

    @Test func invalidUTF8IsReplacedNotPassedThrough() throws {
        let value = String(decoding: [0x6B, 0xFF, 0x65, 0xC3, 0x79], as: UTF8.self)
        let line = Self.json(["client": .string(value)])
        #expect(String(validating: Array(line.utf8), as: UTF8.self) != nil)
        #expect(try Self.parse(line)["client"] as? String == "k\u{FFFD}e\u{FFFD}y")
    }

    @Test func metadataCannotOverwriteAFixedField() throws {
        let line = Self.json(["level": "critical", "message": "forged", "time": "1970"])
        let object = try Self.parse(line)
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "request")
        #expect(object["metadata.level"] as? String == "critical")
        #expect(line.components(separatedBy: "\"level\":").count == 2)
    }

    @Test func textLinesShowControlCharactersEscaped() {
        let line = BufferedLogHandler.textLine(time: Self.time, level: .warning, label: "warden", message: "a\nb", metadata: ["client": "x\r\n2026 forged\u{0}"])
        #expect(line == "2026-11-30T00:53:20.250Z warning warden: a\\nb client=x\\r\\n2026 forged\\0\n")
    }

    /// Every record through the handler is exactly one line, in order, however its metadata looks.
    @Test func theHandlerWritesOneJSONLinePerRecord() async throws {
        let pipe = Pipe.closedOnExec()
        let reader = Thread.detachedRead(pipe.fileHandleForReading)
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        var logger = Logger(label: "warden.test") { label in BufferedLogHandler(label: label, writer: writer, level: .debug, format: .json) }
        logger[metadataKey: "request_id"] = "abc"
        for index in 0..<200 { logger.debug("step\n\(index)", metadata: ["n": .stringConvertible(index), "text": "\"\n\u{0}"]) }
        logger.trace("below the level")
        writer.stop()
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: await reader.value, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 201 && lines.last == "")
        for (index, line) in lines.dropLast().enumerated() {
            let object = try Self.parse(String(line))
            #expect(object["message"] as? String == "step\n\(index)" && object["n"] as? Int == index)
            #expect(object["request_id"] as? String == "abc" && object["level"] as? String == "debug" && object["label"] as? String == "warden.test")
        }
    }

    /// Where the logger, the metadata provider and the line itself name the same key, the line wins over
    /// the provider and the provider over the logger; keys only one source names all appear.
    @Test func laterMetadataSourcesWin() async throws {
        let pipe = Pipe.closedOnExec()
        let reader = Thread.detachedRead(pipe.fileHandleForReading)
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        for format in LogFormat.allCases {
            var logger = Logger(label: "warden.test") { label in
                BufferedLogHandler(label: label, writer: writer, level: .info, format: format, metadataProvider: RequestLogMetadata.provider)
            }
            logger[metadataKey: "a"] = "logger"
            logger[metadataKey: "b"] = "logger"
            logger[metadataKey: "c"] = "logger"
            logger[metadataKey: "only_logger"] = "1"
            RequestLogMetadata.$current.withValue(["b": "provider", "c": "provider", "only_provider": "2"]) {
                logger.info("m", metadata: ["c": "line", "only_line": "3"])
            }
            logger.info("m", metadata: ["b": "line"])
        }
        writer.stop()
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: await reader.value, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let text = lines.filter { !$0.hasPrefix("{") }
        let json = try lines.filter { $0.hasPrefix("{") }.map(Self.parse)
        #expect(text.count == 2 && json.count == 2)
        #expect(text.first?.hasSuffix("a=logger b=provider c=line only_line=3 only_logger=1 only_provider=2") == true, "\(text)")
        #expect(text.last?.hasSuffix("a=logger b=line c=logger only_logger=1") == true, "\(text)")
        #expect(json.first?["a"] as? String == "logger" && json.first?["b"] as? String == "provider" && json.first?["c"] as? String == "line")
        #expect(json.first?["only_logger"] as? String == "1" && json.first?["only_provider"] as? String == "2" && json.first?["only_line"] as? String == "3")
        #expect(json.last?["b"] as? String == "line" && json.last?["c"] as? String == "logger" && json.last?["only_provider"] == nil)
    }

    /// The request's ids reach lines of other loggers only while the request's task runs.
    @Test func theProviderAddsTheRequestsIdsOnlyInsideARequest() async throws {
        let pipe = Pipe.closedOnExec()
        let reader = Thread.detachedRead(pipe.fileHandleForReading)
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        let logger = Logger(label: "warden.sql") { label in
            BufferedLogHandler(label: label, writer: writer, level: .info, format: .json, metadataProvider: RequestLogMetadata.provider)
        }
        logger.info("outside")
        RequestLogMetadata.$current.withValue(RequestLogMetadata.metadata(requestID: "r9", traceID: "4bf92f3577b34da6a3ce929d0e0e4736")) {
            logger.info("inside")
        }
        writer.stop()
        try pipe.fileHandleForWriting.close()
        let lines = try String(decoding: await reader.value, as: UTF8.self).split(separator: "\n").map { try Self.parse(String($0)) }
        #expect(lines.count == 2)
        #expect(lines[0]["request_id"] == nil && lines[0]["trace_id"] == nil)
        #expect(lines[1]["request_id"] as? String == "r9" && lines[1]["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
    }

    @Test(
        arguments: [
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", nil),  // another version
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", nil),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", nil),  // all-zero trace id
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", nil),  // all-zero parent id
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", nil),  // upper case
            ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", nil),  // 31 digits
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", nil),  // trailing text
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", nil),
            ("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", nil),
            (" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", nil),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736\n00f067aa0ba902b7-01", nil),
            ("", nil),
        ] as [(String, String?)])
    func traceparentIsReadStrictly(_ header: String, _ expected: String?) {
        #expect(TraceParent.traceID(header) == expected)
    }

    @Test func aRepeatedTraceparentGivesNoTraceID() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(TraceParent.traceID([header]) == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceParent.traceID([header, header]) == nil)
        #expect(TraceParent.traceID([]) == nil)
    }
}
