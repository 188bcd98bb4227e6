import Foundation
import Testing

/// Accounts, roles, the audit log and the schema through the command line (SQLite in the data directory).
@Suite(.serialized)
struct AccountCLITests {
    /// Cheap scrypt parameters for the test processes.
    static let fast = ["WARDEN_SCRYPT_LOG_N": "10"]

    func cli() throws -> CLI {
        var cli = try CLI()
        cli.environment = Self.fast
        cli.environment["USER"] = "tester"
        return cli
    }

    /// The hashing pool's settings are checked; the command line never sheds (a queue of 0 would refuse
    /// every hash in `warden serve` while one runs; here the commands still hash, one after another).
    @Test func passwordHashingSettings() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        for (name, value) in [("WARDEN_PASSWORD_HASH_THREADS", "0"), ("WARDEN_PASSWORD_HASH_THREADS", "1.5"), ("WARDEN_PASSWORD_HASH_QUEUE", "-1")] {
            let refused = try await cli.run(["users", "list"], environment: [name: value])
            #expect(refused.status != 0 && refused.stderr.contains(name), "\(name)=\(value)")
        }
        let bounded = ["WARDEN_PASSWORD_HASH_THREADS": "1", "WARDEN_PASSWORD_HASH_QUEUE": "0"]
        let created = try await cli.run(["users", "create", "ada", "--password-stdin"], input: Data("correct horse battery staple\n".utf8), environment: bounded)
        #expect(created.status == 0, "\(created.stderr)")
        let reset = try await cli.run(["users", "set-password", "ada"], input: Data("another long passphrase\n".utf8), environment: bounded)
        #expect(reset.status == 0, "\(reset.stderr)")
    }

    @Test func usersLifecycle() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        let created = try await cli.run(
            ["users", "create", "ada", "--email", "ada@example.com", "--phone", "+447700900123", "--password-stdin"],
            input: Data("correct horse battery staple\n".utf8))
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.line.hasPrefix("created: ada ("))
        let weak = try await cli.run(["users", "create", "bob", "--password-stdin"], input: Data("password\n".utf8))
        #expect(weak.status != 0)
        #expect(weak.stderr.contains("at least 12 characters"))
        #expect(!weak.stderr.contains("password\n"))
        let duplicate = try await cli.run(["users", "create", "ADA"])
        #expect(duplicate.stderr.contains("taken"))

        let list = try await cli.run(["users", "list", "--json"])
        let accounts = try #require(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        #expect(accounts.map { $0["username"] as? String } == ["ada"])
        #expect(accounts.first?["email"] as? String == "ada@example.com")

        // The database holds the contact details sealed and the password as scrypt.
        let row = try await cli.sqlite(".warden/warden.db", "SELECT email, phone, password_hash FROM warden_accounts")
        #expect(row.hasPrefix("wd1:"))
        #expect(!row.contains("ada@example.com"))
        #expect(!row.contains("+447700900123"))
        #expect(row.contains("$scrypt$ln=10,r=8,p=1$"))

        #expect(try await cli.run(["users", "grant", "ada", "key_admin", "--days", "7"]).status == 0)
        #expect(try await cli.run(["users", "grant", "ada", "auditor"]).status == 0)
        let unknownRole = try await cli.run(["users", "grant", "ada", "wizard"])
        #expect(unknownRole.status != 0)
        #expect(unknownRole.stderr.contains("no such role"))
        let shown = try await cli.run(["users", "show", "ada", "--json"])
        let account = try #require(try JSONSerialization.jsonObject(with: shown.stdout) as? [String: Any])
        #expect((account["roles"] as? [[String: Any]])?.compactMap { $0["role"] as? String } == ["auditor", "key_admin"])
        #expect((account["permissions"] as? [String]) == ["audit:read", "keys:*", "keys:read", "roles:read"])
        #expect((account["roles"] as? [[String: Any]])?.last?["expires"] != nil)

        #expect(try await cli.run(["users", "revoke", "ada", "key_admin"]).line == "revoked: key_admin from ada")
        #expect(try await cli.run(["users", "disable", "ada"]).status == 0)
        #expect(try await cli.run(["users", "show", "ada", "--json"]).output.contains("\"status\" : \"disabled\""))
        #expect(try await cli.run(["users", "enable", "ada"]).status == 0)
        #expect(try await cli.run(["users", "set-password", "ada"], input: Data("another fine passphrase\n".utf8)).status == 0)
        #expect(try await cli.run(["users", "delete", "ada"]).status != 0)
        #expect(try await cli.run(["users", "delete", "ada", "--yes"]).status == 0)
        #expect(try await cli.run(["users", "show", "ada"]).stderr.contains("no account named ada"))

        let tail = try await cli.run(["audit", "tail", "--json", "--limit", "50"])
        let actions = tail.output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["action"] as? String
        }
        #expect(
            actions == [
                "keyring.created", "account.created", "role.granted", "role.granted", "role.revoked", "account.disabled", "session.revoked_all",
                "account.enabled", "password.changed", "session.revoked_all", "session.revoked_all", "account.deleted",
            ])
        #expect(tail.output.contains("\"actor\":\"cli:tester\""))
        #expect(!tail.output.contains("correct horse"))
        #expect(try await cli.run(["audit", "verify"]).line == "intact: 12 entries")
    }

    @Test func mfaStatusAndResetRecoverFromTheHardStop() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        let created = try await cli.run(["users", "create", "ada"])
        let id = String(try #require(created.line.split(separator: "(").last?.dropLast()))
        // The state a hundred consecutive failures leave behind.
        let document = #"{"backupCodes":[],"challenges":[],"factors":[],"failures":{"byKind":{"totp":100},"consecutive":100,"locks":19,"stopped":1800000000000},"pendingCodes":[]}"#
        try await cli.sqlite(".warden/warden.db", "INSERT INTO warden_mfa (account_id, document, updated_at) VALUES ('\(id)', '\(document)', 0)")
        let stopped = try await cli.run(["mfa", "status", "ada"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.output.contains("lock: stopped"))
        #expect(stopped.output.contains("consecutive failures: 100"))
        #expect(try await cli.run(["mfa", "reset", "ada"]).line == "MFA lock cleared for ada")
        let json = try await cli.run(["mfa", "status", "ada", "--json"])
        let status = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(status["lock"] as? String == "none")
        #expect(status["consecutive_failures"] as? Int == 0)
        #expect(try await cli.run(["mfa", "status", "nobody"]).status != 0)
        let tail = try await cli.run(["audit", "tail", "--json"])
        #expect(tail.output.contains("mfa.lockout_reset"))
        #expect(try await cli.run(["audit", "verify"]).status == 0)
    }

    @Test func rolesListAndShow() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        let list = try await cli.run(["roles", "list", "--json"])
        let roles = try #require(try JSONSerialization.jsonObject(with: list.stdout) as? [[String: Any]])
        #expect(roles.count == 19)
        let admin = try #require(roles.first { $0["name"] as? String == "admin" })
        #expect((admin["effective_permissions"] as? [String])?.count == 18)
        #expect(admin["inherits"] as? [String] == ["operator", "moderator", "user", "guest"])
        let show = try await cli.run(["roles", "show", "data_protection_officer"])
        #expect(show.output.contains("inherits    compliance_officer → user → guest"))
        #expect(try await cli.run(["roles", "show", "nope"]).status != 0)
    }

    @Test func auditVerifyReportsTamperingAndExitsNonZero() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        for name in ["a1", "a2", "a3"] { try await cli.run(["users", "create", name]) }
        #expect(try await cli.run(["audit", "verify"]).line == "intact: 4 entries")
        try await cli.sqlite(".warden/warden.db", "UPDATE warden_audit SET actor = 'cli:someone-else' WHERE seq = 3")
        let edited = try await cli.run(["audit", "verify"])
        #expect(edited.status != 0)
        #expect(edited.line == "broken at entry 3: contents do not match the hash (edited)")
        try await cli.sqlite(".warden/warden.db", "UPDATE warden_audit SET actor = 'cli:tester' WHERE seq = 3")
        #expect(try await cli.run(["audit", "verify"]).status == 0)
        try await cli.sqlite(".warden/warden.db", "DELETE FROM warden_audit WHERE seq = 4")
        let truncated = try await cli.run(["audit", "verify"])
        #expect(truncated.status != 0)
        #expect(truncated.line.hasPrefix("broken at entry 4"))
    }

    @Test func databaseCommandsAndANewerSchema() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        let migrate = try await cli.run(["db", "migrate"])
        let latest = try #require(Int(try await cli.sqlite(".warden/warden.db", "SELECT MAX(version) FROM warden_schema_migrations").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(latest >= 3)
        #expect(migrate.line == "applied: " + (1...latest).map(String.init).joined(separator: ", ") + "; schema version \(latest)")
        #expect(try await cli.run(["db", "migrate"]).line == "up to date: schema version \(latest)")
        #expect(try await cli.run(["db", "status"]).output.contains("pending    none"))
        try await cli.sqlite(".warden/warden.db", "INSERT INTO warden_schema_migrations (version, name, applied_at) VALUES (\(latest + 1), 'future', 0)")
        let refused = try await cli.run(["keys", "status"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("newer than this Warden knows"))
        #expect(try await cli.run(["db", "status"]).status != 0)
    }

    @Test func aKeyringFromTheFileStoreIsImportedOnce() async throws {
        let cli = try cli()
        defer { cli.cleanup() }
        // An earlier Warden kept the keyring in keyring.json: make one with the library's file store.
        let sealed = try await cli.run(["encrypt", "--context", "c"], input: Data("kept".utf8))
        let document = try await cli.sqlite(".warden/warden.db", "SELECT document FROM warden_keyring")
        try FileManager.default.removeItem(atPath: cli.file(".warden/warden.db"))
        try Data(document.utf8).write(to: URL(fileURLWithPath: cli.file(".warden/keyring.json")))
        chmod(cli.file(".warden/keyring.json"), 0o600)
        let opened = try await cli.run(["decrypt", "--context", "c"], input: sealed.stdout)
        #expect(opened.output == "kept")
        #expect(opened.stderr.contains("imported the keyring"))
        #expect(FileManager.default.fileExists(atPath: cli.file(".warden/keyring.json.imported")))
        #expect(try await cli.run(["decrypt", "--context", "c"], input: sealed.stdout).stderr.isEmpty)
    }
}
