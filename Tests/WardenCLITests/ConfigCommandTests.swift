import Foundation
import Testing

/// `warden config check` and `warden config show`, as an operator runs them.
struct ConfigCommandTests {
    @Test func checkListsEveryProblemAndNamesTheSettingToFix() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try Data(#"{"server": {"portt": 1}, "sessions": {"maximum": 0}}"#.utf8).write(to: URL(fileURLWithPath: cli.file("warden.json")))
        let secret = "pw-9d1c0ffee"
        let bad = try await cli.run(
            ["config", "check", "--config", "warden.json"],
            environment: [
                "WARDEN_PORT": "eighty", "WARDEN_REGISTRATION": "everyone", "WARDEN_DATABASE_URL": "mysql://u:\(secret)@db/x",
            ])
        #expect(bad.status == 1)
        for expected in [
            "the configuration has 5 problems", "WARDEN_PORT (from environment WARDEN_PORT): must be a whole number, 0–65535",
            "WARDEN_REGISTRATION (from environment WARDEN_REGISTRATION): must be admin, invite or open",
            "WARDEN_MAX_SESSIONS (from file warden.json (sessions.maximum)): must be a whole number, 1–1000",
            "warden.json: server.portt is not a setting", "WARDEN_DATABASE_URL (from environment WARDEN_DATABASE_URL): must be a postgres:// URL",
        ] {
            #expect(bad.stderr.contains(expected), "\(expected) in \(bad.stderr)")
        }
        #expect(!bad.stderr.contains(secret) && !bad.output.contains(secret))
        // Nothing was created: the check opens no database.
        #expect(!FileManager.default.fileExists(atPath: cli.file(".warden")))

        let badKey = try await cli.run(["config", "check"], environment: ["WARDEN_MASTER_KEY": "not-a-key", "WARDEN_TLS_CERT": "missing.pem", "WARDEN_TLS_KEY": "missing.key"])
        #expect(badKey.status == 1)
        #expect(badKey.stderr.contains("WARDEN_MASTER_KEY (from environment WARDEN_MASTER_KEY): must be the base64 of exactly 32 bytes"), "\(badKey.stderr)")
        #expect(badKey.stderr.contains("WARDEN_TLS_CERT (from environment WARDEN_TLS_CERT): the certificate and key could not be used"))
        #expect(!badKey.stderr.contains("not-a-key"))

        // A PostgreSQL URL whose CA file is missing: named with the path, the password not repeated.
        let badCA = try await cli.run(
            ["config", "check"],
            environment: [
                "WARDEN_MASTER_KEY": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
                "WARDEN_DATABASE_URL": "postgres://u:\(secret)@db.example.com/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            ])
        #expect(badCA.status == 1)
        #expect(badCA.stderr.contains("WARDEN_DATABASE_URL (from environment WARDEN_DATABASE_URL): sslrootcert in WARDEN_DATABASE_URL: /nonexistent/ca.pem does not exist"), "\(badCA.stderr)")
        #expect(!badCA.stderr.contains(secret) && !badCA.output.contains(secret))

        let good = try await cli.run(["config", "check"], environment: ["WARDEN_PORT": "9443"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.line.contains("the configuration is valid"))
    }

    @Test func showPrintsEachValueWithItsSourceAndRedactsSecrets() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try Data("server:\n  port: 9000\n  host: 0.0.0.0\nsmtp:\n  host: mail.example.org\n".utf8).write(to: URL(fileURLWithPath: cli.file("warden.yaml")))
        let secret = "smtp-pw-51a7e"
        let shown = try await cli.run(
            ["config", "show", "--config", "warden.yaml", "--data-dir", "state", "--json"],
            environment: [
                "WARDEN_PORT": "9100", "WARDEN_SMTP_PASSWORD": secret,
            ])
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = try #require(try JSONSerialization.jsonObject(with: shown.stdout) as? [[String: Any]])
        func line(_ variable: String) -> (value: String, source: String)? {
            lines.first { $0["environment"] as? String == variable }.map { ($0["value"] as! String, $0["source"] as! String) }
        }
        #expect(line("WARDEN_PORT")?.value == "9100" && line("WARDEN_PORT")?.source == "environment WARDEN_PORT")
        #expect(line("WARDEN_HOST")?.value == "0.0.0.0" && line("WARDEN_HOST")?.source == "file warden.yaml (server.host)")
        #expect(line("WARDEN_DATA_DIR")?.value == "state" && line("WARDEN_DATA_DIR")?.source == "flag --data-dir")
        #expect(line("WARDEN_SMTP_PASSWORD")?.value == "(secret, set)")
        #expect(line("WARDEN_MAX_SESSIONS")?.source == "default")
        #expect(!shown.output.contains(secret) && !shown.stderr.contains(secret))
        let text = try await cli.run(["config", "show"], environment: ["WARDEN_SMTP_PASSWORD": secret])
        #expect(text.status == 0 && text.output.contains("WARDEN_SMTP_PASSWORD") && !text.output.contains(secret))
    }
}
