import Foundation
import Testing
import WardenTestSupport

/// `warden serve` picks up a renewed certificate and key without a restart: the files replaced while it
/// runs, `openssl s_client` sees the new certificate's fingerprint; a pair that does not match and a key
/// readable by others are refused and logged, and the pair in use stays.
@Suite(.serialized)
struct ServeTLSReloadTests {
    @Test func replacedFilesAreServedAndBadPairsAreRefused() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester", "WARDEN_TLS_RELOAD_SECONDS": "1", "WARDEN_SHUTDOWN_DRAIN_SECONDS": "0"]
        for name in ["a", "b", "c"] {
            let made = try await cli.run(["certs", "generate", "--cert", cli.file("\(name)-cert.pem"), "--key", cli.file("\(name)-key.pem"), "--key-type", "ec-p256"])
            #expect(made.status == 0, "\(made.stderr)")
        }
        try Self.install(cli.file("a-cert.pem"), at: cli.file("cert.pem"), mode: 0o644)
        try Self.install(cli.file("a-key.pem"), at: cli.file("key.pem"), mode: 0o600)
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--tls-cert", cli.file("cert.pem"), "--tls-key", cli.file("key.pem")],
            environment: cli.processEnvironment, directory: cli.directory)
        do {
            let (a, b) = (try await Self.fingerprint(file: cli.file("a-cert.pem")), try await Self.fingerprint(file: cli.file("b-cert.pem")))
            #expect(a.contains("Fingerprint=") && b.contains("Fingerprint=") && a != b, "\(a) \(b)")
            #expect(try await Self.served(port: server.port) == a)

            // C's certificate beside A's key: refused, A stays.
            try Self.install(cli.file("c-cert.pem"), at: cli.file("cert.pem"), mode: 0o644)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await Self.served(port: server.port) == a)
            #expect(server.log.contains("refused the changed TLS certificate or key"), "\(server.log)")

            // B's pair: served from the next check on, without a restart.
            try Self.install(cli.file("b-key.pem"), at: cli.file("key.pem"), mode: 0o600)
            try Self.install(cli.file("b-cert.pem"), at: cli.file("cert.pem"), mode: 0o644)
            var served = ""
            for _ in 0..<40 {
                served = try await Self.served(port: server.port)
                if served == b { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(served == b, "still serving \(served)\n\(server.log)")
            #expect(server.log.contains("reloaded the TLS certificate and key"))

            // C's pair with its key readable by others: refused, B stays.
            try Self.install(cli.file("c-key.pem"), at: cli.file("key.pem"), mode: 0o644)
            try Self.install(cli.file("c-cert.pem"), at: cli.file("cert.pem"), mode: 0o644)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await Self.served(port: server.port) == b)
            #expect(server.log.contains("tls.insecure_permissions"), "\(server.log)")
        } catch {
            Issue.record(error)
        }
        #expect(await server.stop(), "warden serve needed SIGKILL after SIGTERM")
    }

    /// Copies `source` to `path` with `mode` by renaming a new file over it (as a deployment tool would).
    static func install(_ source: String, at path: String, mode: Int) throws {
        let temporary = path + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: try Data(contentsOf: URL(fileURLWithPath: source)), attributes: [.posixPermissions: mode]) else {
            throw CLIFailure(description: "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw CLIFailure(description: "cannot rename over \(path)") }
    }

    static func fingerprint(file: String) async throws -> String {
        try await shell("openssl x509 -in '\(file)' -noout -fingerprint -sha256")
    }

    /// The SHA-256 fingerprint of the certificate a new TLS connection gets.
    static func served(port: Int) async throws -> String {
        try await shell("timeout 10 openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256")
    }

    static func shell(_ command: String) async throws -> String {
        let result = try await runProcess("/bin/sh", ["-c", command])
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
