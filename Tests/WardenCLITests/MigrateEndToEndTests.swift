import Foundation
import SQLKit
import Testing
import WardenSQL
import WardenTestSupport

/// `warden migrate` end to end: the scenarios of python/migration_e2e.py (a fixture installation of the
/// original system written by scripts/legacy-fixture.py with Python's `cryptography`), and PostgreSQL as
/// the application database.
@Suite struct MigrateEndToEndTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/migration_e2e.py").path

    static func scenario(_ name: String) async throws {
        let result = try await runProcess("/usr/bin/env", ["python3", script, CLI.executable, name])
        let output = String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self)
        #expect(result.status == 0, "\(output)")
        #expect(output.contains("\(name): ok"), "\(output)")
    }

    /// plan → run → verify → logins with the fixture passwords → every value over HTTP → restore.
    @Test func aFixtureInstallationMigratesAndRestores() async throws { try await Self.scenario("full") }

    /// An application writing during the run loses no update.
    @Test func aConcurrentWriterLosesNoUpdate() async throws { try await Self.scenario("writer") }

    /// 30 SIGKILLs during a migration of more than 20,000 values: nothing lost, twice encrypted or left legacy.
    @Test func killedRunsResumeToExactlyOneFinalForm() async throws { try await Self.scenario("kill") }

    /// Wrong keys, truncated tokens, open backup directories: stopped, named, nothing changed.
    @Test func errorsStopTheRunAndChangeNothing() async throws { try await Self.scenario("errors") }

    /// --keep-twin-meta keeps the digital-twin wrapper's meta.
    @Test func theTwinWrapperIsKeptWhenAsked() async throws { try await Self.scenario("meta") }

    /// Legacy values in PostgreSQL (bytea and text columns, integer and text keys) are rewritten in place,
    /// open under their documented contexts, and come back byte for byte with restore.
    @Test func postgresColumnsMigrateInPlace() async throws {
        let database = try await TestDatabase.makePostgresURL()
        var cli = try CLI()
        defer { cli.cleanup() }
        // Legacy values written by Python's `cryptography`, as the original did.
        let generator = """
            import base64, hashlib, json, os
            from cryptography.fernet import Fernet
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            raw = os.urandom(32)
            master = os.urandom(32)
            fernet = Fernet(base64.urlsafe_b64encode(raw))
            version = "v_20260101_120000_0a1b2c3d"
            key = hashlib.pbkdf2_hmac("sha256", master, (version + "digital_twin_salt").encode(), 100000, 32)
            def envelope(text):
                nonce = os.urandom(12)
                sealed = AESGCM(key).encrypt(nonce, text.encode(), None)
                return json.dumps({"version": version, "iv": base64.b64encode(nonce).decode(), "tag": base64.b64encode(sealed[-16:]).decode(),
                                   "data": base64.b64encode(sealed[:-16]).decode(), "algorithm": "AES-256-GCM"})
            rows = []
            for i in range(1, 41):
                plain = f"secret {i} é"
                if i % 4 == 0: stored = fernet.encrypt(plain.encode()).decode()
                elif i % 4 == 1: stored = envelope(plain)
                elif i % 4 == 2: stored = plain
                else: stored = None; plain = None
                rows.append({"id": i, "blob": base64.b64encode(fernet.encrypt(f"blob {i}".encode())).decode(), "text": stored, "plain": plain})
            print(json.dumps({"encryption_key": base64.urlsafe_b64encode(raw).decode(), "master_key": base64.urlsafe_b64encode(master).decode(), "rows": rows}))
            """
        let generated = try await runProcess("/usr/bin/env", ["python3", "-c", generator])
        #expect(generated.status == 0, "\(String(decoding: generated.stderr, as: UTF8.self))")
        struct Row: Decodable {
            let id: Int64
            let blob: String
            let text: String?
            let plain: String?
        }
        struct Fixture: Decodable {
            let encryption_key: String
            let master_key: String
            let rows: [Row]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: generated.stdout)
        let backend = try PostgresBackend.connect(url: database.url, maxConnections: 1)
        do {
            try await backend.withConnection { sql in
                try await sql.raw("CREATE TABLE app_secrets (id BIGINT PRIMARY KEY, secret BYTEA, note TEXT)").run()
                try await sql.raw("CREATE TABLE app_codes (code TEXT PRIMARY KEY, value TEXT)").run()
                for row in fixture.rows {
                    try await sql.raw("INSERT INTO app_secrets (id, secret, note) VALUES (\(bind: row.id), \(bind: Data(base64Encoded: row.blob)!), \(bind: row.text))").run()
                    try await sql.raw("INSERT INTO app_codes (code, value) VALUES (\(bind: "code-\(row.id)"), \(bind: row.text))").run()
                }
            }
            func cells() async throws -> [String] {
                try await backend.withConnection { sql in
                    try await sql.raw("SELECT id, encode(secret, 'hex') AS s, note FROM app_secrets ORDER BY id").all().map {
                        "\(try $0.decode(column: "id", as: Int64.self))|\(try $0.decode(column: "s", as: String.self))|\(try $0.decode(column: "note", as: String?.self) ?? "NULL")"
                    }
                        + (try await sql.raw("SELECT code, value FROM app_codes ORDER BY code").all().map {
                            "\(try $0.decode(column: "code", as: String.self))|\(try $0.decode(column: "value", as: String?.self) ?? "NULL")"
                        })
                }
            }
            let before = try await cells()
            cli.environment = ["DIGITAL_TWIN_ENCRYPTION_KEY": fixture.encryption_key, "DIGITAL_TWIN_MASTER_KEY": fixture.master_key, "USER": "tester"]
            let sources = [
                "--database", database.url, "--column", "app_secrets.secret", "--column", "app_secrets.note",
                "--backup-dir", cli.file("backup"), "--quiet",
            ]
            let run = try await cli.run(["migrate", "run"] + sources)
            #expect(run.status == 0, "\(run.output)\(run.stderr)")
            #expect(!run.output.contains(database.url) || !database.url.contains("@"), "the URL with its password was printed")
            let codes = try await cli.run([
                "migrate", "run", "--database", database.url, "--column", "app_codes.value:code",
                "--backup-dir", cli.file("backup-codes"), "--quiet",
            ])
            #expect(codes.status == 0, "\(codes.output)\(codes.stderr)")
            let verify = try await cli.run([
                "migrate", "verify", "--database", database.url, "--column", "app_secrets.secret", "--column", "app_secrets.note", "--column", "app_codes.value:code", "--json",
            ])
            #expect(verify.status == 0, "\(verify.output)\(verify.stderr)")
            // Every value opens under its documented context (the CLI binds the caller domain as the HTTP API does).
            let rows: [(Int64, Data?, String?, String?)] = try await backend.withConnection { sql in
                try await sql.raw("SELECT s.id, s.secret, s.note, c.value FROM app_secrets s JOIN app_codes c ON c.code = 'code-' || s.id ORDER BY s.id").all().map {
                    (
                        try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "secret", as: Data?.self),
                        try $0.decode(column: "note", as: String?.self), try $0.decode(column: "value", as: String?.self)
                    )
                }
            }
            for (row, expected) in zip(rows, fixture.rows) {
                let blob = try #require(row.1)
                #expect(blob.prefix(2) == Data([0x57, 0x01]), "bytea values become binary envelopes")
                let opened = try await cli.run(["decrypt", "--context", "app_secrets/secret/\(row.0)"], input: blob)
                #expect(opened.output == "blob \(row.0)", "\(opened.stderr)")
                if let plain = expected.plain {
                    let note = try #require(row.2)
                    #expect(note.hasPrefix("wd1:"))
                    #expect(try await cli.run(["decrypt", "--context", "app_secrets/note/\(row.0)"], input: Data(note.utf8)).output == plain)
                    let code = try #require(row.3)
                    #expect(try await cli.run(["decrypt", "--context", "app_codes/value/code-\(row.0)"], input: Data(code.utf8)).output == plain)
                } else {
                    #expect(row.2 == nil && row.3 == nil)
                }
            }
            // Restore puts every original byte back.
            let restored = try await cli.run(["migrate", "restore"] + sources)
            #expect(restored.status == 0, "\(restored.output)\(restored.stderr)")
            let restoredCodes = try await cli.run(["migrate", "restore", "--database", database.url, "--column", "app_codes.value:code", "--backup-dir", cli.file("backup-codes"), "--quiet"])
            #expect(restoredCodes.status == 0, "\(restoredCodes.output)\(restoredCodes.stderr)")
            #expect(try await cells() == before)
        } catch {
            Issue.record(error)
        }
        try? await backend.close()
        await database.cleanup()
    }
}
