import Foundation
import SQLKit
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL

/// The TLS-only PostgreSQL server `scripts/postgres.sh start-tls` starts (scripts/test.sh starts it beside
/// the plaintext one): its certificate names `localhost` only and is signed by a throwaway CA; a second CA
/// signed nothing; pg_hba.conf has `hostssl` lines only.
struct TLSServer: Sendable {
    /// `postgres://warden:…@localhost:port/postgres?sslmode=verify-full&sslrootcert=<CA>`.
    let url: URLComponents
    let caPath: String
    let otherCAPath: String
    let clientCertificatePath: String
    let clientKeyPath: String

    static let current: TLSServer? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["WARDEN_TEST_POSTGRES_TLS_URL"].flatMap(URLComponents.init(string:)),
            let ca = environment["WARDEN_TEST_POSTGRES_TLS_CA"],
            let otherCA = environment["WARDEN_TEST_POSTGRES_TLS_OTHER_CA"],
            let certificate = environment["WARDEN_TEST_POSTGRES_TLS_CLIENT_CERT"],
            let key = environment["WARDEN_TEST_POSTGRES_TLS_CLIENT_KEY"]
        else { return nil }
        return TLSServer(url: url, caPath: ca, otherCAPath: otherCA, clientCertificatePath: certificate, clientKeyPath: key)
    }()

    static let skipReason: Comment =
        "WARDEN_TEST_POSTGRES_TLS_URL and its certificate paths are not set: run scripts/test.sh, or eval \"$(scripts/postgres.sh start-tls)\""

    var password: String { url.password ?? "" }

    /// The server's URL with `host`, `user`, `database` and query items replaced (nil removes an item).
    func url(
        host: String? = nil, user: String? = nil, password: String?? = nil, database: String? = nil,
        _ query: [String: String?] = [:]
    ) -> String {
        var url = url
        if let host { url.host = host }
        if let user { url.user = user }
        if let password { url.password = password }
        if let database { url.path = "/" + database }
        var items = url.queryItems ?? []
        for (name, value) in query {
            items.removeAll { $0.name == name }
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        url.queryItems = items
        return url.string!
    }
}

@Suite(.enabled(if: TLSServer.current != nil, TLSServer.skipReason))
struct PostgresTLSTests {
    let server = TLSServer.current!

    /// Runs `body` against a fresh database on the TLS server, reached over verify-full with the right CA.
    private func withFreshDatabase(_ body: (String) async throws -> Void) async throws {
        let name = "warden_tls_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let admin = try await PostgresBackend.open(url: server.url(), maxConnections: 1)
        try await admin.withConnection { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
        do {
            try await body(server.url(database: name))
        } catch {
            try? await admin.withConnection { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
            try? await admin.close()
            throw error
        }
        try await admin.withConnection { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
        try await admin.close()
    }

    @Test func verifyFullWithTheRightCARunsTheStoreOverTLS() async throws {
        try await withFreshDatabase { url in
            let store = try await SQLStore.open(url: url, sqlitePath: "/nonexistent", auditChain: testChain, keyringActor: "test")
            // The pool's connections are encrypted, not merely allowed to be.
            let encrypted = try await store.backend.withConnection {
                try await $0.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first(decodingColumn: "ssl", as: Bool.self)
            }
            #expect(encrypted == true)
            // Migrated; the keyring written and read back; an account written and read back.
            let cipher = try await FieldCipher.load(store: store, masterKey: testMasterKey)
            #expect(try await store.load() != nil)
            let accounts = AccountService(store: store, hasher: PasswordHasher(parameters: AccountStoreSQLTests.fastHashes), cipher: cipher)
            let created = try await accounts.create(
                username: "Ada", password: "correct horse battery staple", email: "ada@example.com", phone: nil,
                context: AccountStoreSQLTests.context)
            #expect(try await accounts.account(username: "ada") == created)
            try await store.close()
        }
    }

    @Test func verifyCAChecksTheChainButNotTheHostName() async throws {
        // 127.0.0.1 is not in the certificate; verify-ca does not ask.
        let backend = try await PostgresBackend.open(url: server.url(host: "127.0.0.1", ["sslmode": "verify-ca"]), maxConnections: 1)
        try await backend.close()
        // The chain still must lead to the CA given.
        let error = try await #require(throws: SQLStoreError.self) {
            _ = try await PostgresBackend.open(url: server.url(host: "127.0.0.1", ["sslmode": "verify-ca", "sslrootcert": server.otherCAPath]))
        }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("CERTIFICATE_VERIFY_FAILED"))
    }

    @Test func aClientCertificateLogsIn() async throws {
        let url = server.url(
            user: "warden_cert", password: .some(nil),
            [
                "sslcert": server.clientCertificatePath, "sslkey": server.clientKeyPath,
            ])
        let backend = try await PostgresBackend.open(url: url, maxConnections: 1)
        let user = try await backend.withConnection {
            try await $0.raw("SELECT current_user AS name").first(decodingColumn: "name", as: String.self)
        }
        #expect(user == "warden_cert")
        try await backend.close()
    }

    /// Connections the TLS-only server or the client must refuse, and what the message must say.
    struct Refusal: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let url: @Sendable (TLSServer) -> String
        let reason: String
    }

    static let refusals: [Refusal] = [
        Refusal(
            testDescription: "verify-full with a CA that did not sign the server's certificate",
            url: { $0.url(["sslrootcert": $0.otherCAPath]) }, reason: "CERTIFICATE_VERIFY_FAILED"),
        Refusal(
            testDescription: "verify-full with the system store (the throwaway CA is not in it)",
            url: { $0.url(["sslrootcert": nil]) }, reason: "CERTIFICATE_VERIFY_FAILED"),
        Refusal(
            testDescription: "verify-full to 127.0.0.1, an address the certificate does not name",
            url: { $0.url(host: "127.0.0.1") }, reason: "failedToValidateHostname"),
        Refusal(
            testDescription: "require verifies as verify-full does (a wrong CA)",
            url: { $0.url(["sslmode": "require", "sslrootcert": $0.otherCAPath]) }, reason: "CERTIFICATE_VERIFY_FAILED"),
        Refusal(
            testDescription: "require verifies the host name too",
            url: { $0.url(host: "127.0.0.1", ["sslmode": "require"]) }, reason: "failedToValidateHostname"),
        Refusal(
            testDescription: "sslmode=disable, refused by the server's pg_hba.conf",
            url: { $0.url(["sslmode": "disable", "sslrootcert": nil]) }, reason: "no encryption"),
        Refusal(
            testDescription: "the client-certificate role without its certificate",
            url: { $0.url(user: "warden_cert") }, reason: "the server refused"),
    ]

    @Test(arguments: refusals)
    func refusedConnectionsSayWhyWithoutThePassword(_ refusal: Refusal) async throws {
        let url = refusal.url(server)
        let error = try await #require(throws: SQLStoreError.self) { _ = try await PostgresBackend.open(url: url, maxConnections: 1) }
        #expect(error.code == .unavailable)
        #expect(error.message.contains(refusal.reason), "\(error.message)")
        #expect(error.message.contains("sslmode="))
        for text in [error.message, String(describing: error), String(reflecting: error)] {
            #expect(!text.contains(server.password))
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutRepeatingIt() async throws {
        let wrong = "not-the-password-\(UUID().uuidString)"
        let error = try await #require(throws: SQLStoreError.self) {
            _ = try await PostgresBackend.open(url: server.url(password: .some(wrong)), maxConnections: 1)
        }
        #expect(error.message.contains("password authentication failed"), "\(error.message)")
        #expect(!error.message.contains(wrong))
        #expect(!error.message.contains(server.password))
    }
}
