import ArgumentParser
import Foundation
import WardenApp
import WardenCrypto
import WardenMigrate

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move an installation of the original system onto Warden: accounts, roles, access history, encrypted values.",
        discussion: """
            plan → run (writes an encrypted backup first, then rewrites in batches; resumable) → verify; \
            restore puts the backed-up values back. docs/migration.md walks through it.
            """,
        subcommands: [Plan.self, Run.self, Verify.self, Status.self, Restore.self])

    /// What to migrate, from flags and/or a migration file.
    struct Sources: ParsableArguments {
        @Option(help: ArgumentHelp("A migration file (JSON) naming sources and targets; flags override it.", valueName: "file"))
        var config: String?

        @Option(help: ArgumentHelp("Where the encrypted backup and the journal live (mode 0700).", valueName: "dir"))
        var backupDir: String?

        @Option(help: ArgumentHelp("The original's rbac.db: users, grants, access log (env RBAC_DB_PATH).", valueName: "path"))
        var rbacDb: String?

        @Option(help: ArgumentHelp("The original's digital_twin.db (env DIGITAL_TWIN_DB_PATH); its schema is detected.", valueName: "path"))
        var twinDb: String?

        @Option(help: ArgumentHelp("An application database (SQLite path or postgres:// URL) whose --column values to migrate.", valueName: "location"))
        var database: String?

        @Option(
            help: ArgumentHelp(
                "A column of --database (or, without it, of --twin-db besides the detected ones): table.column, or table.column:key when the primary key is not `id` (repeatable).",
                valueName: "table.column[:key]"))
        var column: [String] = []

        @Option(help: ArgumentHelp("Context bound to each value of the --column columns; {table}, {column}, {key} are replaced.", valueName: "template"))
        var context: String?

        @Option(help: ArgumentHelp("Rows per batch (one transaction each).", valueName: "rows"))
        var batchSize: Int?

        @Option(help: ArgumentHelp("A role for users who hold none (the original gave them no permission), or `none`.", valueName: "role"))
        var roleless: String?

        @Flag(help: "Leave plaintext found in migrated columns as it is (default: seal it).")
        var keepPlaintext = false

        @Flag(help: "Record the row keys of values that open under no key and go on, instead of stopping.")
        var skipUnreadable = false

        @Flag(help: "Also re-seal Warden envelopes under older key versions with the primary (so old versions fall out of use).")
        var rewrapOldVersions = false

        @Flag(help: "Seal digital-twin values as their whole JSON wrapper, {\"data\": …, \"meta\": …}, instead of the data string alone.")
        var keepTwinMeta = false

        func spec(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MigrationSpec {
            var spec = try config.map { try MigrationSpec.load(path: $0) } ?? MigrationSpec()
            if let backupDir { spec.backupDirectory = backupDir }
            if let rbac = rbacDb ?? (spec.rbacDatabase == nil && config == nil ? nonEmpty(environment["RBAC_DB_PATH"]) : nil) {
                spec.rbacDatabase = rbac
            }
            var columns: [ColumnTarget] = []
            for text in column {
                let parts = text.split(separator: ":", maxSplits: 1)
                let names = parts.first?.split(separator: ".", maxSplits: 1) ?? []
                guard names.count == 2 else { throw ValidationError("--column \(text): expected table.column or table.column:key") }
                columns.append(ColumnTarget(table: String(names[0]), column: String(names[1]), key: parts.count == 2 ? String(parts[1]) : "id", context: context))
            }
            let twin = twinDb ?? (config == nil && database == nil ? nonEmpty(environment["DIGITAL_TWIN_DB_PATH"]) : nil)
            if let twin {
                spec.databases.removeAll { $0.name == "twin" }
                spec.databases.append(DatabaseTarget(name: "twin", location: twin, columns: database == nil ? columns : [], detect: true))
            }
            if let database {
                spec.databases.removeAll { $0.name == "app" }
                spec.databases.append(DatabaseTarget(name: "app", location: database, columns: columns))
            } else if !column.isEmpty, twin == nil {
                throw ValidationError("--column needs --database or --twin-db")
            }
            if let batchSize { spec.batchSize = batchSize }
            if let roleless { spec.roleless = RolelessPolicy(roleless) }
            if keepPlaintext { spec.sealPlaintext = false }
            if skipUnreadable { spec.skipUnreadable = true }
            if rewrapOldVersions { spec.rewrapOldVersions = true }
            if keepTwinMeta { spec.keepTwinMeta = true }
            do {
                try spec.validate()
            } catch let error as MigrationError {
                throw ValidationError(error.description)
            }
            return spec
        }

        private func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
    }

    struct Output: ParsableArguments {
        @Flag(help: "Print the report as JSON.") var json = false
        @Flag(help: "No progress output.") var quiet = false
    }

    /// Opens Warden's state with a seal reservation fit for bulk work, runs `body`, prints the report,
    /// and exits non-zero when it has failures.
    static func perform(
        _ options: KeyringOptions, _ sources: Sources, _ output: Output, mode: String,
        _ body: @escaping @Sendable (Migrator) async throws -> MigrationReport
    ) async throws {
        var settings = try await options.settings()
        // Bulk sealing: reserve seals in large batches (the unused rest is given back at the end).
        settings.cipher.policy.sealReservation = 1 << 16
        let spec = try sources.spec(environment: settings.environment)
        let report: MigrationReport
        do {
            report = try await Runtime.with(settings, rotatingWhenDue: false) { runtime in
                let migrator = Migrator(
                    spec: spec,
                    services: .init(
                        cipher: runtime.cipher, store: runtime.database, accounts: runtime.accounts, access: runtime.access,
                        masterKey: runtime.masterKey, context: runtime.context),
                    quiet: output.quiet || output.json)
                return try await body(migrator)
            }
        } catch let error as MigrationError {
            FileHandle.standardError.write(Data("warden: migrate \(mode): \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        if output.json {
            FileHandle.standardOutput.write(report.json() + Data("\n".utf8))
        } else {
            print(report.text())
        }
        if !report.succeeded { throw ExitCode(1) }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count what would be migrated and open every legacy value; change nothing.")
        @OptionGroup var options: KeyringOptions
        @OptionGroup var sources: Sources
        @OptionGroup var output: Output

        func run() async throws {
            try await MigrateCommand.perform(options, sources, output, mode: "plan") { try await $0.plan() }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up, then import accounts and rewrite every legacy value; run again to resume after an interruption.")
        @OptionGroup var options: KeyringOptions
        @OptionGroup var sources: Sources
        @OptionGroup var output: Output
        @Flag(help: "Only plan: read and count, change nothing.") var dryRun = false
        @Flag(help: "Only verify: open every value and check every account (as `warden migrate verify`).") var verifyOnly = false

        func validate() throws {
            guard !(dryRun && verifyOnly) else { throw ValidationError("use only one of --dry-run and --verify-only") }
        }

        func run() async throws {
            let mode = dryRun ? "plan" : verifyOnly ? "verify" : "run"
            try await MigrateCommand.perform(options, sources, output, mode: mode) { [dryRun, verifyOnly] migrator in
                if dryRun { return try await migrator.plan() }
                if verifyOnly { return try await migrator.verify() }
                return try await migrator.run()
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open every migrated value under its context and check every imported account; exit non-zero on any failure.")
        @OptionGroup var options: KeyringOptions
        @OptionGroup var sources: Sources
        @OptionGroup var output: Output

        func run() async throws {
            try await MigrateCommand.perform(options, sources, output, mode: "verify") { try await $0.verify() }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the backed-up values back (rows the application changed since are left, unless --force).")
        @OptionGroup var options: KeyringOptions
        @OptionGroup var sources: Sources
        @OptionGroup var output: Output
        @Flag(help: "Also overwrite rows changed since the migration.") var force = false

        func run() async throws {
            try await MigrateCommand.perform(options, sources, output, mode: "restore") { [force] in try await $0.restore(force: force) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the journal's state: backup, accounts, each column's progress.")
        @Option(help: ArgumentHelp("The migration's backup directory.", valueName: "dir")) var backupDir: String

        func run() async throws {
            print(try MigrationStatus.describe(backupDirectory: backupDir))
        }
    }
}
