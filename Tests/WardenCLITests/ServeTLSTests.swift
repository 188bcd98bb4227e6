import Foundation
import Testing
import WardenTestSupport

/// `warden certs generate --key-type …` and `warden serve` with the result, checked with `openssl s_client`:
/// both key types load and serve TLS 1.3, and a client that kept its session resumes it on the next
/// connection (`-sess_out`, then `-sess_in`), without a new signature from the server's key.
@Suite(.serialized)
struct ServeTLSTests {
    /// The key type flag (none: the default) and the signature `s_client` reports for a full handshake.
    static let keyTypes: [(flag: [String], signature: String)] = [
        ([], "RSA-PSS"),
        (["--key-type", "rsa-4096"], "RSA-PSS"),
        (["--key-type", "ec-p256"], "ECDSA"),
    ]

    @Test(arguments: keyTypes)
    func serveResumesTLSSessionsWithEitherKeyType(flag: [String], signature: String) async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester"]
        let certs = try await cli.run(["certs", "generate", "--cert", cli.file("cert.pem"), "--key", cli.file("key.pem")] + flag)
        #expect(certs.status == 0, "\(certs.stderr)")
        let key = try String(contentsOfFile: cli.file("key.pem"), encoding: .utf8)
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))

        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--tls-cert", cli.file("cert.pem"), "--tls-key", cli.file("key.pem")],
            environment: cli.processEnvironment, directory: cli.directory)
        do {
            let port = try #require(server.url.split(separator: ":").last.map(String.init))
            let first = try await Self.get(port: port, caFile: cli.file("cert.pem"), session: ["-sess_out", cli.file("session.pem")])
            #expect(first.contains("New, TLSv1.3, Cipher is TLS_"), "\(first)\n\(server.output)")
            #expect(first.contains("Peer signature type: \(signature)"), "\(first)")
            #expect(first.contains("Verify return code: 0 (ok)"), "\(first)")
            #expect(first.contains("HTTP/1.1 200"), "\(first)")

            let second = try await Self.get(port: port, caFile: cli.file("cert.pem"), session: ["-sess_in", cli.file("session.pem")])
            #expect(second.contains("Reused, TLSv1.3, Cipher is TLS_"), "\(second)\n\(server.output)")
            #expect(!second.contains("Peer signature type"), "a resumed handshake has no server signature: \(second)")
            #expect(second.contains("HTTP/1.1 200"), "\(second)")
        } catch {
            Issue.record(error)
        }
        #expect(await server.stop(), "warden serve needed SIGKILL after SIGTERM")
    }

    @Test func certsGenerateRefusesAnUnknownKeyType() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let result = try await cli.run(["certs", "generate", "--cert", cli.file("cert.pem"), "--key", cli.file("key.pem"), "--key-type", "rsa-2048"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("rsa-4096") && result.stderr.contains("ec-p256"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.file("key.pem")))
        #expect(!FileManager.default.fileExists(atPath: cli.file("cert.pem")))
    }

    /// `GET /health` through `openssl s_client` (TLS 1.3, verifying the certificate for localhost); returns
    /// what s_client printed. `timeout` ends a client that the server never closes on.
    static func get(port: String, caFile: String, session: [String]) async throws -> String {
        let request = Data("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        let result = try await runProcess(
            "/usr/bin/env",
            [
                "timeout", "30", "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-tls1_3", "-CAfile", caFile,
                "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost", "-ign_eof",
            ] + session, input: request)
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "\(output)\n\(String(decoding: result.stderr, as: UTF8.self))")
        return output
    }
}
