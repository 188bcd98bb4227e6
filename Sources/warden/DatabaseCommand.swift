import ArgumentParser
import Foundation
import WardenApp
import WardenSQL

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Apply or show schema migrations (SQLite in the data directory, or WARDEN_DATABASE_URL).",
        discussion: "Every command applies pending migrations when it starts; these run them by hand.",
        subcommands: [Migrate.self, Status.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations.")
        @OptionGroup var options: KeyringOptions

        func run() async throws {
            let backend = try await options.settings().openBackend()
            defer { Task { try? await backend.close() } }
            let applied = try await Migrations.migrate(backend)
            print(
                applied.isEmpty
                    ? "up to date: schema version \(Migrations.latestVersion)"
                    : "applied: " + applied.map(String.init).joined(separator: ", ") + "; schema version \(Migrations.latestVersion)")
            try await backend.close()
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show applied and pending migrations.")
        @OptionGroup var options: KeyringOptions

        func run() async throws {
            let backend = try await options.settings().openBackend()
            let status = try await Migrations.status(backend)
            try await backend.close()
            print("database   \(backend.kind.rawValue)")
            print("schema     version \(status.applied.last ?? 0) (this Warden knows up to \(status.latest))")
            if status.pending.isEmpty {
                print("pending    none")
            } else {
                for (version, name) in status.pending { print("pending    \(version) \(name)") }
            }
            if let newest = status.applied.last, newest > status.latest {
                throw ValidationError("the database schema is newer than this Warden; upgrade Warden")
            }
        }
    }
}

extension Settings {
    /// The database alone, for schema commands that need no keys.
    func openBackend() async throws -> any SQLBackend {
        if let databaseURL { return try await PostgresBackend.open(url: databaseURL) }
        return try await SQLiteBackend.open(path: sqlitePath)
    }
}
