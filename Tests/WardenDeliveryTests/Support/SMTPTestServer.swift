import Foundation

/// A real SMTP server (aiosmtpd, `python/smtp_server.py`) for one test, and what it received.
struct SMTPTestServer: Sendable {
    /// One message as the server recorded it, parsed by Python's `email` package.
    struct Received: Decodable, Sendable {
        let mail_from: String
        let mail_options: [String]
        let rcpt_tos: [String]
        let tls: Bool
        let auth_user: String?
        let auth_mechanism: String?
        let ehlo_name: String?
        let raw_b64: String
        let headers: [String: String]
        let header_counts: [String: Int]
        let content_type: String
        let charset: String?
        let transfer_encoding: String?
        let body: String?
        let defects: [String]

        var raw: String { String(decoding: Data(base64Encoded: raw_b64) ?? Data(), as: UTF8.self) }
        /// The body with CRLF made LF.
        var text: String? { body?.replacingOccurrences(of: "\r\n", with: "\n") }
    }

    let process: ServerProcess
    let outbox: String
    var port: Int { process.port }

    /// Runs `body` with a server started with `options` (see `smtp_server.py`); always stops it.
    static func with<T: Sendable>(
        _ options: [String], in directory: TestDirectory, _ body: (SMTPTestServer) async throws -> T
    ) async throws -> T {
        let outbox = try directory.subdirectory("received-\(UUID().uuidString.prefix(8))")
        let process = try await ServerProcess.start(
            script: Python.script("smtp_server.py"), arguments: [outbox] + options, logDirectory: directory.path)
        let server = SMTPTestServer(process: process, outbox: outbox)
        do {
            let result = try await body(server)
            await process.stop()
            return result
        } catch {
            await process.stop()
            throw error
        }
    }

    /// Every message received so far.
    func received() throws -> [Received] {
        try FileManager.default.contentsOfDirectory(atPath: outbox).filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONDecoder().decode(Received.self, from: Data(contentsOf: URL(fileURLWithPath: "\(outbox)/\($0)")))
        }
    }
}

/// A throwaway CA and a server certificate it signed (`python/make_certs.py`).
struct TestCertificates: Sendable {
    let directory: String
    var caPEM: String { (try? String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8)) ?? "" }
    var certificatePath: String { "\(directory)/server.pem" }
    var keyPath: String { "\(directory)/server.key" }

    /// Makes a CA and a certificate for `names` (by default `localhost` and `127.0.0.1`).
    static func make(in directory: TestDirectory, names: [String] = []) async throws -> TestCertificates {
        try await Python.require()
        let path = try directory.subdirectory("certs-\(UUID().uuidString.prefix(8))")
        let result = try await ChildProcess.run("/usr/bin/env", [Python.executable, Python.script("make_certs.py"), path] + names)
        guard result.status == 0 else {
            throw SetupError("make_certs.py failed: \(String(decoding: result.stderr, as: UTF8.self))")
        }
        return TestCertificates(directory: path)
    }
}
