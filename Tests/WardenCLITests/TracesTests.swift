import Foundation
import Testing
import WardenTestSupport

/// Traces as operators get them: `warden serve` with `WARDEN_OTEL_ENDPOINT` exports spans over OTLP/HTTP
/// to a real receiver (python/otlp_receiver.py, which decodes them with the OpenTelemetry project's own
/// protobuf definitions), joined to the caller's W3C `traceparent`; without the variable nothing is sent.
@Suite(.serialized)
struct TracesTests {
    static let receiverScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/otlp_receiver.py").path
    static let username = "tracer-5f1c9e"
    static let password = "correct horse battery staple"
    // The caller's trace: the server span must join it, under the caller's span.
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let callerSpanID = "00f067aa0ba902b7"

    @Test func aLoginTraceReachesTheCollectorWithItsSpanTree() async throws {
        let redis = try RedisServer()
        try await redis.start()
        let receiver = try await OTLPReceiver.start()
        defer { receiver.stop() }
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = [
            "WARDEN_SCRYPT_LOG_N": "10", "USER": "tester", "WARDEN_REDIS_URL": redis.url,
            "WARDEN_OTEL_ENDPOINT": "http://127.0.0.1:\(receiver.port)", "WARDEN_OTEL_SERVICE_NAME": "warden-traces-test",
            // Batches every 100 ms instead of 5 s, through the OpenTelemetry variable swift-otel reads.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        ]
        try await createAccount(cli)
        let server = try await ServeProcess.start(CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let login = try await Self.login(server.url, traceparent: "00-\(Self.traceID)-\(Self.callerSpanID)-01")
        #expect(login.status == 200, "\(login.body)\n\(server.output)")
        let tokens = try #require(try JSONSerialization.jsonObject(with: Data(login.body.utf8)) as? [String: Any])
        let secrets = ["access_token", "refresh_token", "device_token"].compactMap { tokens[$0] as? String }
        #expect(secrets.count == 3, "\(login.body)")

        // The server span ends last: once it is in, its children are too.
        let spans = try await receiver.spans(until: { $0.contains { $0.name == "POST /auth/login" } })
        #expect(await server.stop())
        await redis.stop()
        #expect(receiver.errors.isEmpty, "\(receiver.errors)")

        let serverSpan = try #require(spans.first { $0.name == "POST /auth/login" }, "\(spans.map(\.name))")
        #expect(serverSpan.traceID == Self.traceID)
        #expect(serverSpan.parentSpanID == Self.callerSpanID)
        #expect(serverSpan.kind == 2)  // SPAN_KIND_SERVER
        #expect(serverSpan.service == "warden-traces-test")
        #expect(serverSpan.attributes["http.request.method"] == "POST")
        #expect(serverSpan.attributes["http.route"] == "/auth/login")
        #expect(serverSpan.attributes["http.response.status_code"] == "200")
        #expect(serverSpan.attributes["warden.request_id"]?.count == 22)

        let useCase = try #require(spans.first { $0.name == "AccountSecurity.login" }, "\(spans.map(\.name))")
        #expect(useCase.parentSpanID == serverSpan.spanID)
        let below = spans.filter { Self.descends($0, from: useCase, in: spans) }
        let sql = below.filter { $0.name.hasPrefix("sql ") }
        let redisSpans = below.filter { $0.name.hasPrefix("redis ") }
        #expect(sql.contains { $0.name == "sql accounts_query" }, "\(below.map(\.name))")
        #expect(redisSpans.contains { $0.name == "redis EVALSHA" && $0.attributes["warden.redis.script"] == "session_create" }, "\(below.map(\.name))")
        for span in sql { #expect(span.attributes["db.system.name"] == "sqlite" && span.attributes["db.operation.name"] == String(span.name.dropFirst(4))) }
        for span in redisSpans { #expect(span.attributes["db.system.name"] == "redis") }
        // Everything the request did is in the caller's trace, under its server span; nothing else was traced.
        for span in spans where span.spanID != serverSpan.spanID {
            #expect(span.traceID == Self.traceID && Self.descends(span, from: serverSpan, in: spans), "\(span.name)")
        }

        // No secret in any byte sent: the password, the tokens (and their signatures), the username.
        let raw = receiver.raw
        for secret in [Self.password, Self.username] + secrets + secrets.compactMap({ $0.split(separator: ".").last.map(String.init) }) {
            #expect(raw.range(of: Data(secret.utf8)) == nil, "a secret (\(secret.count) characters) was exported")
        }
    }

    @Test func withoutAnEndpointNothingIsSent() async throws {
        let receiver = try await OTLPReceiver.start()
        defer { receiver.stop() }
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = [
            "WARDEN_SCRYPT_LOG_N": "10", "USER": "tester",
            // The SDK's own variables alone never turn export on.
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)", "OTEL_BSP_SCHEDULE_DELAY": "100",
        ]
        try await createAccount(cli)
        let server = try await ServeProcess.start(CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let login = try await Self.login(server.url, traceparent: "00-\(Self.traceID)-\(Self.callerSpanID)-01")
        #expect(login.status == 200, "\(login.body)")
        try await Task.sleep(for: .seconds(1))
        #expect(await server.stop())
        #expect(receiver.raw.isEmpty)
        #expect(receiver.spans.isEmpty)
    }

    /// An endpoint that is not an http(s) URL stops the server at start, naming the variable.
    @Test(arguments: [
        ["WARDEN_OTEL_ENDPOINT": "ftp://127.0.0.1:4318"],
        ["WARDEN_OTEL_ENDPOINT": "localhost:4318"],
        ["WARDEN_OTEL_ENDPOINT": "http://"],
        ["WARDEN_OTEL_ENDPOINT": "http://localhost:4318", "WARDEN_OTEL_SAMPLE_RATIO": "2"],
    ])
    func anInvalidSettingIsRefusedAtStart(_ environment: [String: String]) async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let result = try await cli.run(["serve", "--port", "0", "--no-tls"], environment: environment)
        #expect(result.status != 0)
        let named = environment.keys.contains("WARDEN_OTEL_SAMPLE_RATIO") ? "WARDEN_OTEL_SAMPLE_RATIO" : "WARDEN_OTEL_ENDPOINT"
        #expect(result.stderr.contains(named), "\(result.stderr)")
    }

    private func createAccount(_ cli: CLI) async throws {
        let created = try await cli.run(["users", "create", Self.username, "--password-stdin"], input: Data((Self.password + "\n").utf8))
        #expect(created.status == 0, "\(created.stderr)")
    }

    /// `POST /auth/login` with curl (an independent client), sending `traceparent`.
    static func login(_ url: String, traceparent: String) async throws -> (status: Int, body: String) {
        let body = #"{"username":"\#(username)","password":"\#(password)"}"#
        let result = try await runProcess(
            "/usr/bin/env",
            [
                "curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-H", "traceparent: \(traceparent)",
                "--data-binary", body, url + "/auth/login",
            ])
        let output = String(decoding: result.stdout, as: UTF8.self)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func descends(_ span: ExportedSpan, from ancestor: ExportedSpan, in spans: [ExportedSpan]) -> Bool {
        var current = span
        for _ in 0..<spans.count {
            guard let parent = spans.first(where: { $0.spanID == current.parentSpanID && $0.traceID == current.traceID }) else { return false }
            if parent.spanID == ancestor.spanID { return true }
            current = parent
        }
        return false
    }
}

/// A span as the receiver decoded it.
struct ExportedSpan: Sendable {
    let traceID: String
    let spanID: String
    let parentSpanID: String
    let name: String
    let kind: Int
    let attributes: [String: String]
    let service: String

    init?(_ object: [String: Any]) {
        guard let traceID = object["trace_id"] as? String, let spanID = object["span_id"] as? String,
            let parent = object["parent_span_id"] as? String, let name = object["name"] as? String
        else { return nil }
        self.traceID = traceID
        self.spanID = spanID
        parentSpanID = parent
        self.name = name
        kind = object["kind"] as? Int ?? -1
        attributes = object["attributes"] as? [String: String] ?? [:]
        service = object["service"] as? String ?? ""
    }
}

/// python/otlp_receiver.py in a scratch directory: its port, the spans it decoded and the raw bodies.
final class OTLPReceiver: @unchecked Sendable {
    // @unchecked: `process` is only started and stopped by the test that owns the receiver.
    let directory: String
    let port: Int
    private let process: Process

    private init(directory: String, port: Int, process: Process) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    static func start() async throws -> OTLPReceiver {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-otlp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TracesTests.receiverScript, directory]
        // Not the test's own pipes: a receiver outliving a crashed test must not hold `swift test` open.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), let port = Int(text) {
                return OTLPReceiver(directory: directory, port: port, process: process)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw CLIFailure(description: "the OTLP receiver did not start (is opentelemetry-proto installed? scripts/test.sh installs it)")
    }

    var raw: Data { FileManager.default.contents(atPath: directory + "/raw.bin") ?? Data() }
    var errors: String { (try? String(contentsOfFile: directory + "/errors", encoding: .utf8)) ?? "" }

    var spans: [ExportedSpan] {
        let text = (try? String(contentsOfFile: directory + "/spans.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap(ExportedSpan.init)
        }
    }

    /// The spans received once `done` holds (waiting at most 20 s).
    func spans(until done: ([ExportedSpan]) -> Bool) async throws -> [ExportedSpan] {
        for _ in 0..<200 {
            let received = spans
            if done(received) { return received }
            try await Task.sleep(for: .milliseconds(100))
        }
        return spans
    }

    /// Kills the receiver (SIGKILL: a test process may hand its children SIGTERM ignored).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
