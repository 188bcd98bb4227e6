import Foundation
import Logging
import Testing
import WardenTestSupport

@testable import WardenHTTP

/// Access-log lines leave the request path: buffered, written by a thread of their own, in order, and
/// dropped (and counted) rather than waited for when the reader stops reading.
struct BufferedLogTests {
    @Test func linesArriveInOrderWithTheirMetadata() async throws {
        let pipe = Pipe.closedOnExec()
        // Read while writing: 1,000 lines are more than a pipe holds.
        let reading = pipe.fileHandleForReading
        let reader = Thread.detachedRead(reading)
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        let logger = Logger(label: "warden.test") { label in BufferedLogHandler(label: label, writer: writer, level: .info) }
        for index in 0..<1000 { logger.info("request", metadata: ["n": .stringConvertible(index), "route": "/auth/sessions"]) }
        logger.debug("below the level")
        writer.stop()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: await reader.value, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1000)
        #expect(lines.enumerated().allSatisfy { $1.hasSuffix(" info warden.test: request n=\($0) route=/auth/sessions") })
        #expect(!text.contains("below the level"))
        // `2026-11-30T01:02:03.456Z info …`
        let time = try #require(lines.first?.split(separator: " ").first)
        #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(19).hasPrefix("."))
    }

    /// Threat: a log reader that stops reading (a full pipe) stalls every request. The writer's buffer
    /// is bounded: lines past it are dropped and counted, and `append` never blocks.
    @Test func aStalledReaderCostsLinesNotRequests() async throws {
        let pipe = Pipe.closedOnExec()
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor, capacity: 4096, interval: .seconds(3600))
        let line = String(repeating: "x", count: 99) + "\n"
        for _ in 0..<100 { writer.append(line) }  // 10,000 bytes into a 4,096-byte buffer
        writer.flush()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("xxx") }.count == 40)
        #expect(text.contains("warden: 60 log lines dropped"))
    }

    @Test func requestMetricsKeepTheirNamesAndLabels() {
        let metrics = APIFixture.metrics()
        metrics.recordRequest(route: "/auth/sessions", method: "GET", status: 200, duration: .milliseconds(2))
        metrics.recordRequest(route: "/auth/sessions", method: "GET", status: 200, duration: .milliseconds(200))
        metrics.recordRequest(route: "/auth/sessions", method: "GET", status: 401, duration: .milliseconds(1))
        let text = metrics.render()
        #expect(text.contains(#"warden_http_requests_total{method="GET",route="/auth/sessions",status="200"} 2"#))
        #expect(text.contains(#"warden_http_requests_total{method="GET",route="/auth/sessions",status="401"} 1"#))
        #expect(text.contains(#"warden_http_request_duration_seconds_bucket{method="GET",route="/auth/sessions",le="0.0025"} 2"#))
        #expect(text.contains(#"warden_http_request_duration_seconds_count{method="GET",route="/auth/sessions"} 3"#))
        #expect(text.contains("# HELP warden_http_request_duration_seconds HTTP request latency by route template and method.\n# TYPE warden_http_request_duration_seconds histogram"))
    }
}

extension Thread {
    /// Reads `handle` to its end on a thread of its own.
    ///
    /// A real thread, not a task: a blocking read in a task holds one of the few cooperative threads (two
    /// on a two-core machine), and a few of these tests running at once then starve the very tasks that
    /// write and close the pipe.
    static func detachedRead(_ handle: FileHandle) -> Task<Data, Never> {
        let (stream, continuation) = AsyncStream<Data>.makeStream()
        let thread = Thread {
            continuation.yield(handle.readDataToEndOfFile())
            continuation.finish()
        }
        thread.start()
        return Task {
            for await data in stream { return data }
            return Data()
        }
    }
}
