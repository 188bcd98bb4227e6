import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenTestSupport

@testable import WardenHTTP

/// The request's lines, through the real router and middleware: the request id the response names, the
/// caller's trace id when its `traceparent` is valid, and nothing of Hummingbird's own second id.
struct RequestLogTests {
    @Test func accessLinesCarryTheRequestIDAndTheCallersTraceID() async throws {
        let f = try await APIFixture.make()
        let pipe = Pipe.closedOnExec()
        let reader = Thread.detachedRead(pipe.fileHandleForReading)
        let writer = LogWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        let logger = Logger(label: "warden") { label in
            BufferedLogHandler(label: label, writer: writer, level: .info, format: .json, metadataProvider: RequestLogMetadata.provider)
        }
        let app = Application(router: f.api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        let traceparent = HTTPField.Name("traceparent")!
        let ids = try await app.test(.router) { client async throws in
            var ids: [String] = []
            for header in ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", nil] {
                var headers: HTTPFields = [:]
                if let header { headers[traceparent] = header }
                let response = try await client.json(.get, "/no-such-route", headers: headers)
                #expect(response.status == .notFound)
                ids.append(try #require(response.headers[.xRequestID]))
            }
            return ids
        }
        writer.stop()
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: await reader.value, as: UTF8.self).split(separator: "\n")
        let requests = try lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["message"] as? String == "request" }
        #expect(requests.map { $0["request_id"] as? String } == ids)
        #expect(requests.map { $0["trace_id"] as? String } == ["4bf92f3577b34da6a3ce929d0e0e4736", nil, nil])
        #expect(!lines.contains { $0.contains("hb.request.id") })
        #expect(requests.allSatisfy { $0["status"] as? Int == 404 && $0["method"] as? String == "GET" }, "\(lines)")
    }
}
