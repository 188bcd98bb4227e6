import Foundation
import SQLKit
public import WardenSQL

/// The databases the store suite runs against: SQLite, and the real PostgreSQL server the test script
/// starts (`WARDEN_TEST_POSTGRES_URL`). Each test gets a database of its own.
public enum TestDatabase: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    public static let postgresURL = ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES_URL"]

    /// How long a fixture's pool waits for a connection. The suite starts some 600 tests at once on two
    /// cores, and for its first ~30 s every task waits its turn (trivial tests report 30 s); the
    /// production default of 10 s then fails tests that only waited in that queue (seen once in CI). The
    /// tests of the timeout itself set their own.
    public static let leaseTimeout: Duration = .seconds(60)

    public typealias Made = (backend: any SQLBackend, reconnect: @Sendable () async throws -> any SQLBackend, cleanup: @Sendable () async -> Void)

    /// A fresh, empty database (no migrations applied), a way to open another connection to it (another
    /// "node"), and how to remove it.
    /// A fresh, empty PostgreSQL database for processes to connect to: its URL, and how to drop it.
    public static func makePostgresURL() async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        guard let admin = postgresURL else {
            throw SetupError(description: "WARDEN_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL")
        }
        let name = "warden_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        let adminBackend = try PostgresBackend.connect(url: admin, maxConnections: 1, leaseTimeout: Self.leaseTimeout)
        try await adminBackend.withConnection { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
        return (
            admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?"),
            {
                try? await adminBackend.withConnection { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                try? await adminBackend.close()
            }
        )
    }

    public func makeBackend() async throws -> Made {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-sql-\(UUID().uuidString)").path
            let backend = try await SQLiteBackend.open(path: directory + "/warden.db")
            return (
                backend, { try await SQLiteBackend.open(path: directory + "/warden.db") },
                {
                    try? await backend.close()
                    try? FileManager.default.removeItem(atPath: directory)
                }
            )
        case .postgres:
            guard let admin = Self.postgresURL else {
                throw SetupError(description: "WARDEN_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL")
            }
            let name = "warden_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            let adminBackend = try PostgresBackend.connect(url: admin, maxConnections: 1, leaseTimeout: Self.leaseTimeout)
            try await adminBackend.withConnection { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            let url = admin.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
            let backend = try PostgresBackend.connect(url: url, leaseTimeout: Self.leaseTimeout)
            return (
                backend, { try PostgresBackend.connect(url: url, leaseTimeout: Self.leaseTimeout) },
                {
                    try? await backend.close()
                    try? await adminBackend.withConnection { try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                    try? await adminBackend.close()
                }
            )
        }
    }

}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}
