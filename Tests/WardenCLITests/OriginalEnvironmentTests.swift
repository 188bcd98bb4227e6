import Foundation
import Testing
import WardenCore
import WardenTestSupport

/// The original system's environment variables: the table, its notes and fallbacks, and `warden` (serve
/// and the other commands) following it.
@Suite(.serialized)
struct OriginalEnvironmentTests {
    static let names = [
        "DIGITAL_TWIN_MASTER_KEY", "DIGITAL_TWIN_ENCRYPTION_KEY", "CURRENT_KEY_VERSION", "RBAC_DB_PATH", "DIGITAL_TWIN_DB_PATH",
        "REDIS_URL", "TLS_ENABLED", "TLS_CERT_FILE", "TLS_KEY_FILE", "API_SECRET_KEY",
    ]

    @Test func theTableListsEveryVariableOnce() {
        #expect(OriginalEnvironment.variables.map(\.name) == Self.names)
        #expect(
            Set(OriginalEnvironment.variables.filter { $0.use == .fallback }.map(\.name)) == [
                "DIGITAL_TWIN_MASTER_KEY", "DIGITAL_TWIN_ENCRYPTION_KEY", "REDIS_URL", "TLS_CERT_FILE", "TLS_KEY_FILE",
            ])
        // A fallback stands in for exactly one Warden variable.
        for variable in OriginalEnvironment.variables where variable.use == .fallback {
            #expect(variable.replacement.hasPrefix("WARDEN_") && !variable.replacement.contains(" "), "\(variable.name)")
        }
        #expect(OriginalEnvironment.variable(named: "API_SECRET_KEY")?.use == .ignored)
        #expect(OriginalEnvironment.variable(named: "PATH") == nil)
    }

    @Test func fallbacksApplyOnlyWhereWardensVariableIsUnset() {
        let applied = OriginalEnvironment.applyingFallbacks(to: [
            "REDIS_URL": "redis://old:6379/0", "TLS_CERT_FILE": "old.crt", "WARDEN_TLS_KEY": "new.key", "TLS_KEY_FILE": "old.key",
            "WARDEN_REDIS_URL": "", "API_SECRET_KEY": "s3cret-hs256", "TLS_ENABLED": "false", "RBAC_DB_PATH": "./data/rbac.db",
        ])
        #expect(applied["WARDEN_REDIS_URL"] == "redis://old:6379/0")  // empty counts as unset
        #expect(applied["WARDEN_TLS_CERT"] == "old.crt")
        #expect(applied["WARDEN_TLS_KEY"] == "new.key")
        #expect(applied["WARDEN_TLS"] == nil)
        // The HS256 secret goes nowhere.
        #expect(applied.filter { $0.value == "s3cret-hs256" }.keys.sorted() == ["API_SECRET_KEY"])
    }

    @Test func notesNameTheReplacementAndNeverTheValue() throws {
        var environment = Dictionary(uniqueKeysWithValues: Self.names.map { ($0, "value-of-\($0)") })
        environment["WARDEN_TLS_CERT"] = "mine.pem"
        let notes = OriginalEnvironment.notes(for: environment)
        #expect(notes.count == Self.names.count)
        for (name, note) in zip(Self.names, notes) {
            #expect(note.hasPrefix("\(name) is the original system's setting; Warden "), "\(note)")
            #expect(!note.contains("value-of-") && !note.contains("mine.pem"), "\(note)")
            #expect(!note.contains("\n"))
        }
        #expect(
            notes.contains("REDIS_URL is the original system's setting; Warden reads WARDEN_REDIS_URL (used REDIS_URL because WARDEN_REDIS_URL is unset): sessions and rate limits go to that Redis"))
        #expect(notes.contains { $0.hasPrefix("TLS_CERT_FILE is the original system's setting; Warden reads WARDEN_TLS_CERT (ignored TLS_CERT_FILE because WARDEN_TLS_CERT is set)") })
        let secret = try #require(notes.first { $0.hasPrefix("API_SECRET_KEY") })
        #expect(secret.contains("does not read it") && secret.contains("never becomes a Warden signing or verification key"))
        #expect(OriginalEnvironment.notes(for: ["REDIS_URL": "", "PATH": "/bin"]).isEmpty)
    }

    /// `warden serve` with the original's environment: the certificate from TLS_CERT_FILE/TLS_KEY_FILE is
    /// the one presented (a client trusting only it verifies the server), REDIS_URL's Redis is the one in
    /// use (readiness reports it), TLS_ENABLED=false leaves TLS on, and each variable gets its note —
    /// without its value.
    @Test func serveFollowsTheOriginalsVariables() async throws {
        let redis = try RedisServer()
        try await redis.start()
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester"]
        let certs = try await cli.run(["certs", "generate", "--cert", cli.file("server.crt"), "--key", cli.file("server.key"), "--key-type", "ec-p256"])
        #expect(certs.status == 0, "\(certs.stderr)")
        let secret = "an-hs256-secret-of-the-original-system-0123456789"
        cli.environment.merge([
            "REDIS_URL": redis.url, "TLS_CERT_FILE": cli.file("server.crt"), "TLS_KEY_FILE": cli.file("server.key"),
            "TLS_ENABLED": "false", "API_SECRET_KEY": secret, "RBAC_DB_PATH": "./data/rbac.db", "DIGITAL_TWIN_DB_PATH": "./data/digital_twin.db",
            "CURRENT_KEY_VERSION": "v_20240827_140523_a1b2",
        ]) { $1 }
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0"], environment: cli.processEnvironment, directory: cli.directory)
        do {
            #expect(server.url.hasPrefix("https://"), "\(server.url)")
            let script = """
                import json, ssl, sys, urllib.request
                context = ssl.create_default_context(cafile=sys.argv[2])
                with urllib.request.urlopen(sys.argv[1] + "/health/ready", context=context) as response:
                    print(json.dumps(json.loads(response.read())))
                """
            let result = try await runProcess("/usr/bin/env", ["python3", "-c", script, server.url, cli.file("server.crt")])
            let body = String(decoding: result.stdout, as: UTF8.self)
            #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))\n\(server.output)")
            #expect(body.contains("\"redis\": \"up\""), "\(body)")
        } catch {
            Issue.record(error)
        }
        #expect(await server.stop(), "warden serve needed SIGKILL after SIGTERM")
        await redis.stop()
        // Standard error is a pipe here, so the server logs JSON lines; its notes are the `notice` ones.
        let notes = server.output.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["level"] as? String == "notice" else { return nil }
            return (object["message"] as? String).flatMap { $0.contains("is the original system's setting") ? $0 : nil }
        }
        #expect(notes.count == 8, "\(server.output)")
        for name in ["REDIS_URL", "TLS_CERT_FILE", "TLS_KEY_FILE"] {
            #expect(notes.contains { $0.hasPrefix("\(name) is the original system's setting; Warden reads WARDEN_") && $0.contains("(used \(name) because") })
        }
        #expect(notes.contains { $0.hasPrefix("API_SECRET_KEY is the original system's setting; Warden does not read it") })
        #expect(!server.output.contains(secret) && !server.output.contains(redis.url) && !server.output.contains("server.key"))
    }

    /// The other commands read the same table: a note for each variable set, and the fallback applied.
    @Test func otherCommandsNoteAndApplyTheFallbacks() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
        cli.environment = ["DIGITAL_TWIN_ENCRYPTION_KEY": "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=", "API_SECRET_KEY": "hs256-secret-value"]
        let opened = try await cli.run(["decrypt", "--context", "c"], input: Data(token.utf8))
        #expect(opened.output == "hello", "\(opened.stderr)")
        #expect(
            opened.stderr.contains(
                "warden: note: DIGITAL_TWIN_ENCRYPTION_KEY is the original system's setting; Warden reads WARDEN_LEGACY_ENCRYPTION_KEY (used DIGITAL_TWIN_ENCRYPTION_KEY because WARDEN_LEGACY_ENCRYPTION_KEY is unset)"
            ),
            "\(opened.stderr)")
        #expect(opened.stderr.contains("warden: note: API_SECRET_KEY is the original system's setting"))
        #expect(!opened.stderr.contains("hs256-secret-value") && !opened.stderr.contains("cw_0x689"))
    }
}
