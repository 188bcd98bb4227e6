import Foundation
import Testing
import WardenTestSupport

/// Threat: secrets in logs. Logs are copied to collectors, tickets and laptops, and read by more people
/// than the database; a password, token, code, key or decrypted plaintext in one line is a leak.
///
/// `warden serve` runs at `trace` with JSON lines while a Python client (python/log_secrets_flow.py) drives
/// a whole flow with every secret the API handles; the test then looks for each of them, and for the master
/// key, in every line, and checks the lines' shape: JSON, request lines with their request id, and the
/// caller's trace id where a `traceparent` came.
@Suite(.serialized)
struct LogSecretsTests {
    static let flow = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/log_secrets_flow.py").path
    static let adminPassword = "correct horse battery staple"

    @Test func noSecretReachesALogLineAtTraceLevel() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester", "WARDEN_LOG_LEVEL": "trace"]
        let created = try await cli.run(["users", "create", "root", "--password-stdin"], input: Data((Self.adminPassword + "\n").utf8))
        #expect(created.status == 0, "\(created.stderr)")
        for role in ["account_admin", "crypto_client"] { #expect(try await cli.run(["users", "grant", "root", role]).status == 0) }
        let certs = try await cli.run(["certs", "generate", "--cert", cli.file("cert.pem"), "--key", cli.file("key.pem")])
        #expect(certs.status == 0, "\(certs.stderr)")

        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--log-format", "json", "--tls-cert", cli.file("cert.pem"), "--tls-key", cli.file("key.pem")],
            environment: cli.processEnvironment, directory: cli.directory)
        let result = try await runProcess("/usr/bin/env", ["python3", Self.flow, cli.file("cert.pem"), server.url, "root", Self.adminPassword])
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(await server.stop(), "warden serve needed SIGKILL after SIGTERM")
        try await Task.sleep(for: .milliseconds(200))  // the last lines still in the pipe
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))\n\(server.output)")
        let report = try #require(output.split(separator: "\n").last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        var secrets = try #require(report["secrets"] as? [String])
        #expect(secrets.count > 40)

        // The master key, as the file holds it and as its bytes in hex.
        let masterKey = try String(contentsOfFile: cli.file(".warden/master.key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        secrets.append(masterKey)
        let keyBytes = try #require(Data(base64Encoded: masterKey) ?? Data(base64Encoded: masterKey.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")))
        secrets.append(keyBytes.map { String(format: "%02x", $0) }.joined())

        let lines = server.log.split(separator: "\n").map(String.init)
        #expect(lines.count > 30, "\(server.log)")
        var requestLines: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON line: \(line)")
                continue
            }
            for field in ["time", "level", "label", "message"] { #expect(object[field] is String, "\(field) missing: \(line)") }
            if object["message"] as? String == "request" {
                #expect((object["request_id"] as? String)?.count == 22, "\(line)")
                requestLines.append(object)
            }
            for secret in secrets where Self.contains(line, secret) {
                Issue.record("a secret (\(secret.count) characters, starting \(secret.prefix(3))…) in the log: \(line)")
            }
        }
        // Every request of the flow has its line (sampling is off by default), and the traced ones their trace id.
        #expect(requestLines.count >= 20)
        let traced = try #require(report["traced"] as? [[String: String]])
        #expect(traced.count == 4)
        for entry in traced {
            let line = requestLines.first { $0["request_id"] as? String == entry["request_id"] }
            #expect(line?["trace_id"] as? String == entry["trace_id"], "\(entry)")
        }
        // Lines logged outside a request carry no request id.
        #expect(lines.contains { !$0.contains("\"request_id\"") })
        #expect(requestLines.filter { $0["trace_id"] != nil }.count == traced.count)
    }

    /// Short numeric secrets (one-time codes) count only as a whole number, not inside a longer one.
    static func contains(_ line: String, _ secret: String) -> Bool {
        guard secret.allSatisfy(\.isNumber) else { return line.contains(secret) }
        var rest = line[...]
        while let range = rest.range(of: secret) {
            let before = range.lowerBound == rest.startIndex ? nil : rest[rest.index(before: range.lowerBound)]
            let after = range.upperBound == rest.endIndex ? nil : rest[range.upperBound]
            if !(before?.isNumber ?? false), !(after?.isNumber ?? false) { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }

    /// A log format or level that is not one of the allowed values stops the server at start, naming the setting.
    @Test(
        arguments: [
            (["--log-format", "xml"], [:], "--log-format"),
            ([], ["WARDEN_LOG_FORMAT": "yaml"], "WARDEN_LOG_FORMAT"),
            ([], ["WARDEN_LOG_LEVEL": "loud"], "WARDEN_LOG_LEVEL"),
        ] as [([String], [String: String], String)])
    func anInvalidLogSettingIsRefusedAtStart(_ arguments: [String], _ environment: [String: String], _ setting: String) async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let result = try await cli.run(["serve", "--port", "0", "--no-tls"] + arguments, environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains(setting), "\(result.stderr)")
    }
}
