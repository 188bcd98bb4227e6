import Foundation
import Testing
import WardenSQL

/// `WARDEN_DATABASE_URL`'s TLS settings that are refused before any connection: each message names the
/// setting and never the password. (Connections themselves: `PostgresTLSTests`.)
struct DatabaseURLTests {
    static let password = "hunter2-\(UUID().uuidString)"

    /// A directory with a PEM certificate, a text file, and two key files (owner-only and world-readable).
    /// The keys are never parsed: the permissions are checked first, and a bad `sslcert` fails before.
    struct Files {
        let directory: String
        var certificate: String { directory + "/ca.pem" }
        var notPEM: String { directory + "/notes.txt" }
        var key: String { directory + "/client.key" }
        var openKey: String { directory + "/open.key" }

        static func make() throws -> Files {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-dburl-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let files = Files(directory: directory)
            try Self.certificatePEM.write(toFile: files.certificate, atomically: true, encoding: .utf8)
            try "not a certificate\n".write(toFile: files.notPEM, atomically: true, encoding: .utf8)
            for (path, mode) in [(files.key, 0o600), (files.openKey, 0o644)] {
                try "not a key either\n".write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            }
            return files
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        /// A self-signed certificate (public; nothing trusts it: only that it parses matters).
        static let certificatePEM = """
            -----BEGIN CERTIFICATE-----
            MIIBhjCCAS2gAwIBAgIUWOKNAkz8LDgOYof/l75+SK+iFz4wCgYIKoZIzj0EAwIw
            GTEXMBUGA1UEAwwOV2FyZGVuIHRlc3QgQ0EwHhcNMjYxMTMwMDk0NzQ1WhcNMzYx
            MTI3MDk0NzQ1WjAZMRcwFQYDVQQDDA5XYXJkZW4gdGVzdCBDQTBZMBMGByqGSM49
            AgEGCCqGSM49AwEHA0IABGmdmaW+f51FM0eEKZufcOMwvVJulfsE7i+iDKx5YCDK
            MUrIUWx5vW3pwLLfajrXpjmIiL5iMppUF2iiaxCj3QGjUzBRMB0GA1UdDgQWBBTN
            uRDaepkqZfbmjECqbYVHjP7v0TAfBgNVHSMEGDAWgBTNuRDaepkqZfbmjECqbYVH
            jP7v0TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIHnntAZ/Lq9Z
            4R87Q/i43ihFEl+Cfaae8VRpuxAVfTZEAiBB/+rBuoPClqqfgtgXcAsmEoMIK4QZ
            iTDUfw6AyU9ooA==
            -----END CERTIFICATE-----

            """
    }

    /// A URL for a remote host with `query`.
    static func url(_ query: String) -> String { "postgres://warden:\(password)@db.example.com:5432/warden?\(query)" }

    @Test func everySSLModeIsAccepted() async throws {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            // Nothing connects until the pool is used; with the system store no file is read.
            try await PostgresBackend.connect(url: Self.url("sslmode=\(mode)")).close()
        }
    }

    @Test func aCertificateFileThatParsesIsAccepted() async throws {
        let files = try Files.make()
        defer { files.remove() }
        try await PostgresBackend.connect(url: Self.url("sslmode=verify-full&sslrootcert=\(files.certificate)")).close()
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let query: @Sendable (Files) -> String
        /// What the message must contain (besides never the password).
        let says: @Sendable (Files) -> [String]
    }

    static let cases: [Case] = [
        Case(testDescription: "unknown sslmode", query: { _ in "sslmode=sometimes" }, says: { _ in ["sslmode", "verify-full"] }),
        Case(
            testDescription: "sslrootcert that does not exist", query: { "sslmode=verify-full&sslrootcert=\($0.directory)/missing.pem" },
            says: { ["sslrootcert", "\($0.directory)/missing.pem", "does not exist"] }),
        Case(
            testDescription: "sslrootcert that is a directory", query: { "sslmode=verify-full&sslrootcert=\($0.directory)" },
            says: { ["sslrootcert", $0.directory, "directory"] }),
        Case(
            testDescription: "sslrootcert that is not PEM", query: { "sslmode=verify-full&sslrootcert=\($0.notPEM)" },
            says: { ["sslrootcert", $0.notPEM] }),
        Case(testDescription: "empty sslrootcert", query: { _ in "sslmode=verify-full&sslrootcert=" }, says: { _ in ["sslrootcert"] }),
        Case(
            testDescription: "sslcert without sslkey", query: { "sslmode=verify-full&sslcert=\($0.certificate)" },
            says: { _ in ["sslcert", "sslkey"] }),
        Case(
            testDescription: "sslkey that others may read", query: { "sslmode=verify-full&sslcert=\($0.certificate)&sslkey=\($0.openKey)" },
            says: { ["sslkey", $0.openKey, "0600"] }),
        Case(
            testDescription: "sslkey that does not exist", query: { "sslmode=verify-full&sslcert=\($0.certificate)&sslkey=\($0.directory)/nokey" },
            says: { _ in ["sslkey", "does not exist"] }),
        Case(
            testDescription: "sslcert that is not PEM", query: { "sslmode=verify-full&sslcert=\($0.notPEM)&sslkey=\($0.key)" },
            says: { ["sslcert", $0.notPEM] }),
        Case(
            testDescription: "certificates with sslmode=disable", query: { "sslmode=disable&sslrootcert=\($0.certificate)" },
            says: { _ in ["sslrootcert", "sslmode=disable"] }),
    ]

    @Test(arguments: cases)
    func unusableTLSSettingsAreRefusedByName(_ testCase: Case) throws {
        let files = try Files.make()
        defer { files.remove() }
        let error = try #require(throws: SQLStoreError.self) { _ = try PostgresBackend.connect(url: Self.url(testCase.query(files))) }
        #expect(error.code == .invalidConfiguration)
        for expected in testCase.says(files) {
            #expect(error.message.contains(expected), "\(error.message)")
        }
        #expect(!String(reflecting: error).contains(Self.password))
    }
}
