import Foundation
import Testing

/// The `warden` command line, end to end: each command is a separate process, so every step also
/// proves that the keyring survives a restart.
@Suite(.serialized)
struct CLITests {
    @Test func versionAndGroupedHelpSayWhatWardenIs() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let version = try await cli.run(["--version"])
        #expect(version.status == 0)
        #expect(version.line.range(of: #"^warden \d+\.\d+\.\d+ \((debug|release) build, \w+ \w+\)$"#, options: .regularExpression) != nil, "\(version.line)")
        let help = try await cli.run(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("sign-in with a second factor or a passkey"))
        for group in ["SERVICE SUBCOMMANDS", "ACCOUNTS AND ACCESS SUBCOMMANDS", "KEYS AND FIELD ENCRYPTION SUBCOMMANDS", "AUDIT SUBCOMMANDS", "DATA SUBCOMMANDS"] {
            #expect(help.output.contains(group), "\(group)")
        }
        #expect(!help.output.contains("Field encryption with a versioned, rotating keyring."))
    }

    @Test func firstRunGeneratesAnOwnerOnlyKeyAndRoundTrips() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let sealed = try await cli.run(["encrypt", "--context", "users/email/42"], input: Data("ada@example.com".utf8))
        #expect(sealed.status == 0)
        #expect(sealed.line.hasPrefix("wd1:1:"))
        #expect(sealed.stderr.contains("warning: no master key configured"))
        #expect(!sealed.stderr.contains(try String(contentsOfFile: cli.file(".warden/master.key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let attributes = try FileManager.default.attributesOfItem(atPath: cli.file(".warden/master.key"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let opened = try await cli.run(["decrypt", "--context", "users/email/42"], input: sealed.stdout)
        #expect(opened.status == 0)
        #expect(opened.output == "ada@example.com")
        #expect(opened.stderr.isEmpty)
    }

    @Test func rotationRetirementAndRestartThroughTheCLI() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let v1 = try await cli.run(["encrypt", "--context", "c"], input: Data("one".utf8))
        #expect(try await cli.run(["keys", "rotate"]).line == "rotated: the primary key version is now 2 (was 1)")
        let v2 = try await cli.run(["encrypt", "--context", "c"], input: Data("two".utf8))
        #expect(v2.line.hasPrefix("wd1:2:"))
        #expect(try await cli.run(["decrypt", "--context", "c"], input: v1.stdout).output == "one")
        let json = try await cli.run(["decrypt", "--context", "c", "--json"], input: v1.stdout)
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(object["key_version"] as? Int == 1)
        #expect(object["needs_rewrap"] as? Bool == true)
        #expect(object["plaintext"] as? String == "one")

        let rewrapped = try await cli.run(["rewrap", "--context", "c"], input: v1.stdout)
        #expect(rewrapped.line.hasPrefix("wd1:2:"))
        #expect(!rewrapped.output.contains("one"))

        let refused = try await cli.run(["keys", "retire", "--below", "3"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot retire the primary"))
        #expect(try await cli.run(["keys", "retire", "--below", "2"]).status == 0)
        let retired = try await cli.run(["decrypt", "--context", "c"], input: v1.stdout)
        #expect(retired.status != 0)
        #expect(retired.stderr.contains("key version 1 is retired"))
        #expect(retired.stdout.isEmpty)
        #expect(try await cli.run(["decrypt", "--context", "c"], input: rewrapped.stdout).output == "one")

        let status = try await cli.run(["keys", "status", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any])
        let versions = try #require(report["versions"] as? [[String: Any]])
        #expect(versions.map { $0["number"] as? Int } == [1, 2])
        #expect(versions.map { $0["state"] as? String } == ["retired", "primary"])
        #expect(versions.allSatisfy { $0["created"] is String && $0["seal_count"] is Int })
        #expect(versions.map { $0["seal_count"] as? Int } == [1, 2])
        #expect(report["primary_version"] as? Int == 2)
        #expect(report["rotation_due"] as? Bool == false)

        #expect(try await cli.run(["keys", "restore", "--from", "1"]).status == 0)
        #expect(try await cli.run(["decrypt", "--context", "c"], input: v1.stdout).output == "one")
        #expect(try await cli.run(["keys", "retire", "--below", "2"]).status == 0)
        #expect(try await cli.run(["keys", "destroy", "--version", "1"]).status != 0)
        #expect(try await cli.run(["keys", "destroy", "--version", "1", "--yes"]).status == 0)
        #expect(try await cli.run(["decrypt", "--context", "c"], input: v1.stdout).stderr.contains("destroyed"))
    }

    @Test func rotateIfDueOnlyRotatesWhenDue() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let first = try await cli.run(["keys", "rotate", "--if-due"])
        #expect(first.line.hasPrefix("not due: primary key version 1 rotates at "))
        // Creation times are whole seconds, so with a period of a microsecond the key is already due.
        let due = try await cli.run(["keys", "rotate", "--if-due"], environment: ["WARDEN_KEY_ROTATION_DAYS": "1e-11"])
        #expect(due.line == "rotated: the primary key version is now 2 (was 1)")
    }

    @Test func theTokenSigningKeyRotatesThroughTheCLI() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let first = try await cli.run(["keys", "rotate", "--signing-key"])
        let firstKID = try #require(first.line.firstMatch(of: /^rotated: tokens are now signed with key (\S+) \(was none\)$/)?.1, "\(first.output)")
        let second = try await cli.run(["keys", "rotate", "--signing-key"])
        #expect(second.line.hasSuffix("(was \(firstKID))"), "\(second.output)")
        #expect(!second.line.contains("key \(firstKID) "))
        let both = try await cli.run(["keys", "rotate", "--signing-key", "--if-due"])
        #expect(both.status != 0)
        #expect(both.stderr.contains("--if-due applies to the field-encryption key only"))
        // The field key is untouched.
        #expect(try await cli.run(["keys", "rotate"]).line == "rotated: the primary key version is now 2 (was 1)")
    }

    @Test func theWrongMasterKeyIsRefusedAndNothingChanges() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment["WARDEN_MASTER_KEY"] = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(try await cli.run(["encrypt", "--context", "c"], input: Data("x".utf8)).status == 0)
        let before = try await cli.sqlite(".warden/warden.db", "SELECT document FROM warden_keyring UNION ALL SELECT COUNT(*) FROM warden_audit")
        let wrong = Data(repeating: 2, count: 32).base64EncodedString()
        for command in [["keys", "status"], ["keys", "rotate"], ["encrypt", "--context", "c"]] {
            let result = try await cli.run(command, input: Data("x".utf8), environment: ["WARDEN_MASTER_KEY": wrong])
            #expect(result.status != 0)
            #expect(result.stderr.contains("does not match this keyring"))
            #expect(!result.stderr.contains(wrong))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try await cli.sqlite(".warden/warden.db", "SELECT document FROM warden_keyring UNION ALL SELECT COUNT(*) FROM warden_audit") == before)
        #expect(!FileManager.default.fileExists(atPath: cli.file(".warden/master.key")))
    }

    @Test func badMasterKeysAreRefused() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let short = try await cli.run(["keys", "status"], environment: ["WARDEN_MASTER_KEY": Data(repeating: 1, count: 16).base64EncodedString()])
        #expect(short.status != 0)
        #expect(short.stderr.contains("exactly 32 bytes"))
        let keyFile = cli.file("key")
        try Data(Data(repeating: 3, count: 32).base64EncodedString().utf8).write(to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o644)
        let open = try await cli.run(["keys", "status"], environment: ["WARDEN_MASTER_KEY_FILE": keyFile])
        #expect(open.status != 0)
        #expect(open.stderr.contains("chmod 600"))
        chmod(keyFile, 0o600)
        #expect(try await cli.run(["keys", "status"], environment: ["WARDEN_MASTER_KEY_FILE": keyFile]).status == 0)
        // A keyring without its generated key is never paired with a new one.
        try FileManager.default.removeItem(atPath: keyFile)
        let missing = try await cli.run(["keys", "status"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("refusing to generate"))
    }

    @Test func errorsAreOneLineWithoutSecrets() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let sealed = try await cli.run(["encrypt", "--context", "users/ssn/1"], input: Data("078-05-1120".utf8))
        let wrongContext = try await cli.run(["decrypt", "--context", "users/ssn/2"], input: sealed.stdout)
        #expect(wrongContext.status != 0)
        #expect(wrongContext.stderr == "Error: decryption failed\n")
        #expect(wrongContext.stdout.isEmpty)
        let garbage = try await cli.run(["decrypt", "--context", "c"], input: Data("not a ciphertext".utf8))
        #expect(garbage.stderr == "Error: decryption failed\n")
        let tooLarge = try await cli.run(["encrypt", "--context", "c"], input: Data(count: 2000), environment: ["WARDEN_MAX_PLAINTEXT_BYTES": "1000"])
        #expect(tooLarge.status != 0)
        #expect(tooLarge.stderr.contains("limit of 1000 bytes"))
    }

    @Test func legacyDataOpensAndRewrapsThroughTheCLI() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        // A Fernet token from the Fernet specification, under its secret, read as DIGITAL_TWIN_ENCRYPTION_KEY.
        cli.environment["DIGITAL_TWIN_ENCRYPTION_KEY"] = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
        let opened = try await cli.run(["decrypt", "--context", "c", "--json"], input: Data((token + "\n").utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: opened.stdout) as? [String: Any])
        #expect(object["plaintext"] as? String == "hello")
        #expect(object["format"] as? String == "legacy-fernet")
        let rewrapped = try await cli.run(["rewrap", "--context", "profiles/greeting/1"], input: Data(token.utf8))
        #expect(rewrapped.line.hasPrefix("wd1:1:"))
        #expect(try await cli.run(["decrypt", "--context", "profiles/greeting/1"], input: rewrapped.stdout).output == "hello")
        let noKey = try await cli.run(["decrypt", "--context", "c"], input: Data(token.utf8), environment: ["DIGITAL_TWIN_ENCRYPTION_KEY": ""])
        #expect(noKey.stderr.contains("needs the original system's keys"))
    }
}
