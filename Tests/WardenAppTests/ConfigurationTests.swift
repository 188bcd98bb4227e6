import Foundation
import Logging
import Testing
import WardenAccess
import WardenHTTP
import WardenMFA
import WardenSessions

@testable import WardenApp

#if canImport(Glibc)
import Glibc
import WardenWebAuthn
#endif

/// The configuration: sources in order, every problem at once, secrets kept out of errors and reports,
/// and the documentation checked against the declarations.
struct ConfigurationTests {
    /// A scratch directory with a file of settings in it.
    private func file(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    private func problems(_ environment: [String: String], file: String? = nil) async throws -> [ConfigurationError.Problem] {
        do {
            _ = try await WardenConfiguration.load(environment: environment, file: file)
            return []
        } catch let error as ConfigurationError {
            return error.problems
        }
    }

    @Test func defaultsWhenNothingIsSet() async throws {
        let configuration = try await WardenConfiguration.load(environment: [:])
        #expect(configuration.dataDirectory == "./.warden")
        #expect(configuration.server.port == 8443 && configuration.server.tls)
        #expect(configuration.sessions.maximumSessions == 10)
        #expect(configuration.mfa.lockThreshold == 5)
        #expect(configuration.accounts.loginPolicy.lockThreshold == 10)
        #expect(configuration.server.strictTransportSecurity == "max-age=31536000")
        #expect(configuration.relyingParty?.id == "localhost")
        #expect(configuration.sources.isEmpty)
        #expect(configuration.report().allSatisfy { $0.source == "default" })
    }

    @Test func flagsWinOverTheEnvironmentWhichWinsOverTheFile() async throws {
        let path = try file("warden.json", #"{"server": {"port": 9000, "host": "0.0.0.0"}, "sessions": {"maximum": 4}, "log": {"level": "debug"}}"#)
        let configuration = try await WardenConfiguration.load(
            flags: ["WARDEN_PORT": ("9100", "--port")], environment: ["WARDEN_PORT": "9200", "WARDEN_HOST": "127.0.0.2"], file: path)
        #expect(configuration.server.port == 9100)
        #expect(configuration.server.host == "127.0.0.2")
        #expect(configuration.sessions.maximumSessions == 4)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.sources["WARDEN_PORT"] == .flag("--port"))
        #expect(configuration.sources["WARDEN_HOST"] == .environment("WARDEN_HOST"))
        #expect(configuration.sources["WARDEN_MAX_SESSIONS"] == .file(path: path, key: "sessions.maximum"))
    }

    @Test func yamlAndTheEarlierFlatFormAreReadToo() async throws {
        let yaml = try file("warden.yaml", "server:\n  port: 9443\n  registration: open\nmfa:\n  lockThreshold: 3\ntls:\n  enabled: false\n")
        let fromYAML = try await WardenConfiguration.load(environment: [:], file: yaml)
        #expect(fromYAML.server.port == 9443 && fromYAML.server.registration == .open && fromYAML.mfa.lockThreshold == 3 && !fromYAML.server.tls)
        let flat = try file("old.json", #"{"WARDEN_PORT": 9555, "WARDEN_TLS": "off"}"#)
        let fromFlat = try await WardenConfiguration.load(environment: [:], file: flat)
        #expect(fromFlat.server.port == 9555 && !fromFlat.server.tls)
        #expect(fromFlat.sources["WARDEN_PORT"] == .file(path: flat, key: "WARDEN_PORT"))
    }

    @Test func everyProblemIsListedAtOnceWithItsSource() async throws {
        let path = try file("warden.json", #"{"sessions": {"maximum": 0}, "serverr": {"port": 1}}"#)
        let found = try await problems(["WARDEN_PORT": "eighty", "WARDEN_TLS": "maybe", "WARDEN_LOG_LEVEL": "loud", "WARDEN_SESSIONS_WHEN_FULL": "panic"], file: path)
        let names = Set(found.map(\.setting))
        #expect(names.isSuperset(of: ["WARDEN_PORT", "WARDEN_TLS", "WARDEN_LOG_LEVEL", "WARDEN_SESSIONS_WHEN_FULL", "WARDEN_MAX_SESSIONS", path]))
        #expect(found.first { $0.setting == "WARDEN_PORT" }?.description == "WARDEN_PORT (from environment WARDEN_PORT): must be a whole number, 0–65535")
        #expect(found.first { $0.setting == "WARDEN_MAX_SESSIONS" }?.source == .file(path: path, key: "sessions.maximum"))
        #expect(found.contains { $0.setting == path && $0.message.contains("serverr.port is not a setting") })
        #expect(found.first { $0.setting == "WARDEN_TLS" }?.message == "must be false, off, on or true")
    }

    @Test func aSecretNeverAppearsInAProblemOrTheReport() async throws {
        let secret = "s3cret-Pa55word"
        let found = try await problems([
            "WARDEN_DATABASE_URL": "mysql://warden:\(secret)@db/warden", "WARDEN_SMS_AUTH_TOKEN": secret, "WARDEN_MASTER_KEY": secret,
        ])
        #expect(found.map(\.setting).contains("WARDEN_DATABASE_URL"))
        #expect(found.map(\.setting).contains("WARDEN_SMS_ACCOUNT_SID"))
        #expect(!ConfigurationError(problems: found).description.contains(secret))
        let valid = try await WardenConfiguration.load(environment: ["WARDEN_SMTP_PASSWORD": secret, "WARDEN_SMTP_HOST": "mail.example.org"])
        #expect(valid.delivery.smtpPassword == secret)
        let report = valid.report()
        #expect(report.first { $0.setting.environment == "WARDEN_SMTP_PASSWORD" }?.value == "(secret, set)")
        #expect(report.first { $0.setting.environment == "WARDEN_SMTP_HOST" }?.value == "mail.example.org")
        #expect(!report.map { "\($0.value) \($0.source)" }.joined().contains(secret))
    }

    @Test func secretsAreReadFromOwnerOnlyFiles() async throws {
        let password = try file("smtp-password", "from-a-file\n")
        let configuration = try await WardenConfiguration.load(environment: ["WARDEN_SMTP_PASSWORD_FILE": password])
        #expect(configuration.delivery.smtpPassword == "from-a-file")
        #expect(configuration.sources["WARDEN_SMTP_PASSWORD"] == .environment("WARDEN_SMTP_PASSWORD_FILE"))
        let open = try file("smtp-password", "readable-by-all", mode: 0o644)
        let refused = try await problems(["WARDEN_SMTP_PASSWORD_FILE": open])
        #expect(refused.map(\.setting) == ["WARDEN_SMTP_PASSWORD"])
        #expect(!refused[0].message.contains("readable-by-all"))
        let both = try await problems(["WARDEN_SMTP_PASSWORD_FILE": password, "WARDEN_SMTP_PASSWORD": "inline"])
        #expect(both.first?.message == "set only one of WARDEN_SMTP_PASSWORD and WARDEN_SMTP_PASSWORD_FILE")
        let inFile = try file("warden.json", #"{"smtp": {"passwordFile": "\#(password)"}}"#)
        #expect(try await WardenConfiguration.load(environment: [:], file: inFile).delivery.smtpPassword == "from-a-file")
    }

    @Test func theMasterKeyIsRefusedInAFileOfSettings() async throws {
        let path = try file("warden.json", #"{"masterKey": "AAAA"}"#)
        let found = try await problems([:], file: path)
        #expect(found.map(\.setting) == ["WARDEN_MASTER_KEY"])
        #expect(found[0].message.contains("WARDEN_MASTER_KEY_FILE"))
        #expect(!found[0].description.contains("AAAA"))
    }

    @Test func policiesReachTheServices() async throws {
        let configuration = try await WardenConfiguration.load(environment: [
            "WARDEN_MAX_SESSIONS": "3", "WARDEN_SESSIONS_WHEN_FULL": "deny-new", "WARDEN_ACCESS_TOKEN_MINUTES": "5", "WARDEN_REFRESH_TOKEN_DAYS": "2",
            "WARDEN_MFA_LOCK_THRESHOLD": "4", "WARDEN_MFA_HARD_STOP": "40", "WARDEN_LOGIN_LOCK_THRESHOLD": "6", "WARDEN_LOGIN_LOCK_MINUTES": "2",
            "WARDEN_MAX_BODY_BYTES": "4096", "WARDEN_HSTS_MAX_AGE": "600", "WARDEN_HSTS_INCLUDE_SUBDOMAINS": "on", "WARDEN_CORS_ORIGINS": "https://app.example.org",
        ])
        #expect(configuration.sessions.maximumSessions == 3 && configuration.sessions.whenFull == .denyNew)
        #expect(configuration.sessions.accessTokenLifetime == 300 && configuration.sessions.refreshTokenLifetime == 2 * 86_400)
        // The idle timeout (7 days by default) never outlives the refresh lifetime.
        #expect(configuration.sessions.idleTimeout == 2 * 86_400)
        #expect(configuration.mfa.lockThreshold == 4 && configuration.mfa.hardStop == 40)
        #expect(configuration.accounts.loginPolicy.lockThreshold == 6 && configuration.accounts.loginPolicy.lockDuration == 120)
        #expect(configuration.server.maxBodyBytes == 4096)
        #expect(configuration.server.strictTransportSecurity == "max-age=600; includeSubDomains")
        #expect(configuration.server.corsOrigins == ["https://app.example.org"])
        let crossed = try await problems(["WARDEN_MFA_LOCK_THRESHOLD": "10", "WARDEN_MFA_HARD_STOP": "5", "WARDEN_SESSION_IDLE_DAYS": "40"])
        #expect(Set(crossed.map(\.setting)) == ["WARDEN_MFA_HARD_STOP", "WARDEN_SESSION_IDLE_DAYS"])
    }

    @Test func theOriginalSystemsVariablesStandInWhereWardensAreUnset() async throws {
        var notes: [String] = []
        let configuration = try await WardenConfiguration.load(environment: ["REDIS_URL": "redis://127.0.0.1:6390"], notes: { notes.append($0) })
        #expect(configuration.redisURL == "redis://127.0.0.1:6390")
        #expect(notes.count == 1 && notes[0].contains("REDIS_URL") && !notes[0].contains("6390"))
    }

    @Test func everyDeclaredSettingIsRead() async throws {
        var reader = try await SettingsReader(flags: [:], environment: [:], file: nil)
        var configuration = WardenConfiguration()
        configuration.readForTesting(&reader)
        let declared = Set(Setting.all.map(\.environment))
        #expect(declared.subtracting(reader.read).isEmpty, "declared but never read: \(declared.subtracting(reader.read).sorted())")
        #expect(Setting.all.count == declared.count, "a variable is declared twice")
        #expect(Set(Setting.all.map(\.key)).count == Setting.all.count, "a file key is declared twice")
    }

    /// docs/configuration.md holds the reference table exactly as the declarations generate it, and
    /// names no variable that is not declared.
    @Test func theDocumentationMatchesTheDeclarations() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let begin = "<!-- settings reference: generated by `warden config reference`; a test checks it -->\n"
        let end = "<!-- end of settings reference -->"
        guard let start = docs.range(of: begin), let stop = docs.range(of: end, range: start.upperBound..<docs.endIndex) else {
            Issue.record("docs/configuration.md has no generated settings reference")
            return
        }
        let table = String(docs[start.upperBound..<stop.lowerBound])
        #expect(table == WardenConfiguration.referenceTable(), "regenerate it: swift run warden config reference")
        let declared = Set(Setting.all.flatMap { [$0.environment, $0.fileEnvironment].compactMap { $0 } } + [WardenConfiguration.fileVariable])
        // `<WARDEN_VARIABLE>` is the placeholder of the original-variable notes' format, not a setting.
        let mentioned = Set(docs.matches(of: /WARDEN_[A-Z0-9_]*[A-Z0-9]/).map { String($0.output) }).subtracting(["WARDEN_VARIABLE"])
        #expect(mentioned.subtracting(declared).isEmpty, "docs/configuration.md names undeclared settings: \(mentioned.subtracting(declared).sorted())")
    }
}
