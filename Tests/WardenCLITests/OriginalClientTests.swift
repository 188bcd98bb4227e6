import Foundation
import Testing
import WardenTestSupport

/// A client of the original system's API (python/original_client.py, written only from the shapes in
/// `original-implementation.md`) runs its flows against a live `warden serve`: once with
/// `WARDEN_API_COMPATIBILITY=original`, once with Warden's default shapes (docs/migration-api.md).
@Suite(.serialized)
struct OriginalClientTests {
    static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/original_client.py").path
    static let password = "correct horse battery staple"

    @Test(arguments: ["original", "warden"])
    func originalClientRunsUnchanged(mode: String) async throws {
        var cli = try CLI()
        cli.environment = [
            "WARDEN_SCRYPT_LOG_N": "10", "USER": "tester",
            // The client logs in about fifteen times within a minute from one address.
            "WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE": "1000", "WARDEN_AUTH_RATE_LIMIT_PER_MINUTE": "1000",
        ]
        // Off is the default: the variable is not set at all for Warden's shapes.
        if mode == "original" { cli.environment["WARDEN_API_COMPATIBILITY"] = "original" }
        var node: ServeProcess?
        do {
            let created = try await cli.run(["users", "create", "legacy-client", "--password-stdin"], input: Data("\(Self.password)\n".utf8))
            #expect(created.status == 0, "\(created.stderr)")
            let certs = try await cli.run(["certs", "generate", "--cert", cli.file("cert.pem"), "--key", cli.file("key.pem")])
            #expect(certs.status == 0, "\(certs.stderr)")
            let serve = try await ServeProcess.start(
                CLI.executable, ["serve", "--port", "0", "--tls-cert", cli.file("cert.pem"), "--tls-key", cli.file("key.pem")],
                environment: cli.processEnvironment, directory: cli.directory)
            node = serve
            let result = try await runProcess("/usr/bin/env", ["python3", Self.client, cli.file("cert.pem"), serve.url, "legacy-client", Self.password, mode])
            let output = String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
            #expect(result.status == 0, "\(output)\nserver: \(serve.output)")
            #expect(output.contains("original client passed (\(mode) mode)"))
            #expect(!serve.output.contains(Self.password))
        } catch {
            Issue.record(error)
        }
        if let node { #expect(await node.stop(), "the node needed SIGKILL after SIGTERM") }
        cli.cleanup()
    }

    @Test func anUnknownCompatibilityModeIsRefused() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let refused = try await cli.run(["serve", "--port", "0", "--no-tls"], environment: ["WARDEN_API_COMPATIBILITY": "python"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("WARDEN_API_COMPATIBILITY (from environment WARDEN_API_COMPATIBILITY): must be original or warden"), "\(refused.stderr)")
    }
}
