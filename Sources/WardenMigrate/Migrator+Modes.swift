import Foundation
import WardenCore
import WardenCrypto
import WardenSQL

extension Migrator {
    /// Reads everything and opens every legacy value; changes nothing (`plan`, `run --dry-run`).
    public func plan() async throws -> MigrationReport {
        let start = ContinuousClock.now
        var report = MigrationReport(mode: "plan")
        if let path = spec.rbacDatabase {
            report.accounts = try await usingRBAC(path) { rbac in
                var accounts = MigrationReport.Accounts()
                _ = try await planAccounts(rbac, report: &accounts)
                accounts.auditEntries = try await rbac.accessLogCount()
                return accounts
            }
        }
        let databases = try await openDatabases(readOnly: true, notes: &report.notes)
        try await using(databases) { try await planColumns(databases, report: &report) }
        report.elapsedSeconds = ProgressMeter.seconds(ContinuousClock.now - start)
        return report
    }

    /// Backs up, verifies the backup, imports accounts and rewrites every legacy value; resumes from the
    /// journal after an interruption.
    public func run() async throws -> MigrationReport {
        guard let directory = spec.backupDirectory else {
            throw MigrationError("a backup directory is required (--backup-dir, or backup_dir in the migration file): nothing is changed without a backup")
        }
        try MigrationBackup.checkPrivateDirectory(directory)
        do {
            return try await FileLock.withExclusiveLock(directory + "/lock", timeout: .seconds(1)) {
                try await runLocked(directory: directory)
            }
        } catch let error as FileError where error.code == .lockTimeout {
            throw MigrationError("another `warden migrate` is working in \(directory)")
        }
    }

    private func runLocked(directory: String) async throws -> MigrationReport {
        let start = ContinuousClock.now
        var report = MigrationReport(mode: "run")
        let journal = try MigrationJournal(stateDirectory: directory)
        let backup = MigrationBackup(stateDirectory: directory, masterKey: services.masterKey)
        if journal.records.isEmpty { try journal.append(.init(kind: .started)) } else { report.notes.append("resuming from the journal (\(journal.records.count) records)") }
        let rbac = try await spec.rbacDatabase.asyncMap { try await RBACDatabase.open($0) }
        let databases: [Opened]
        do {
            databases = try await openDatabases(readOnly: false, notes: &report.notes)
        } catch {
            await rbac?.close()
            throw error
        }
        do {
            var manifest: MigrationBackup.Manifest
            let backedUp: BackedUpKeys
            if journal.has(.backupVerified), let written = try backup.readManifest() {
                manifest = written
                // Read back whole: checksums, authentication, counts.
                backedUp = try BackedUpKeys.load(manifest, from: backup)
                let locations = Set(databases.flatMap { database in database.columns.map(database.location) })
                guard locations.isSubset(of: Set(manifest.columns.map(\.location))) else {
                    throw MigrationError("the columns to migrate changed since the backup in \(directory) was taken; finish or restore that migration, or use another backup directory")
                }
            } else {
                (manifest, backedUp) = try await writeBackup(databases, backup: backup, journal: journal)
            }
            if let rbac {
                var accounts = MigrationReport.Accounts()
                let plans = try await planAccounts(rbac, report: &accounts)
                guard spec.skipUnreadable || accounts.failures.isEmpty else {
                    report.accounts = accounts
                    throw MigrationError("some users cannot be imported (see the plan: `warden migrate plan`); fix them or run with --skip-unreadable")
                }
                try await importAccounts(plans, rbac: rbac, report: &accounts)
                try journal.append(.init(kind: .accountsDone, rows: plans.count))
                report.accounts = accounts
            }
            var columnIndex = 0
            for database in databases {
                for column in database.columns {
                    var entry = MigrationReport.Column(location: database.location(column))
                    let index = manifest.columns.firstIndex { $0.location == entry.location } ?? columnIndex
                    let tally = try await rewrite(database, column, columnIndex: index, backup: backup, manifest: &manifest, backedUp: backedUp, journal: journal, report: &entry)
                    try await count(database, column, tally: tally, into: &entry)
                    report.columns.append(entry)
                    columnIndex += 1
                }
            }
            try journal.append(.init(kind: .finished))
        } catch {
            await Self.closeAll(databases)
            await rbac?.close()
            throw error
        }
        await Self.closeAll(databases)
        await rbac?.close()
        report.elapsedSeconds = ProgressMeter.seconds(ContinuousClock.now - start)
        return report
    }

    /// Counts of one column's values by format and key version (from the bytes alone, nothing opened).
    struct Tally {
        var usage: [String: Int64] = [:]
        var formats: [String: Int] = [:]
        var remaining = 0

        mutating func add(_ cell: Cell, _ migrator: Migrator) {
            let format = ValueFormat.of(cell)
            formats[migrator.name(format, cell), default: 0] += 1
            if format == .envelope, let version = Migrator.envelopeVersion(cell) {
                usage[String(version), default: 0] += 1
                if migrator.rewrites(cell, format) { remaining += 1 }
            }
            if format == .legacyJSON || format == .fernet {
                usage[format.rawValue, default: 0] += 1
                remaining += 1
            }
            if format == .plaintext, migrator.spec.sealPlaintext { remaining += 1 }
        }
    }

    /// Records a column's counts for key-version accounting (reading the column again unless the run
    /// counted it as it went: `tally`, taken at `counted`).
    func count(_ database: Opened, _ column: ColumnTarget, tally: (Tally, Date)?, into entry: inout MigrationReport.Column) async throws {
        var (result, counted) = tally ?? (Tally(), Date())
        if tally == nil {
            try await forEachPage(database, column, label: "count \(database.location(column))", limit: 5000) { page in
                for (_, cell) in page { result.add(cell, self) }
            }
        }
        entry.formats = result.formats
        entry.remainingLegacy = result.remaining
        try await services.store.recordKeyUsage(location: database.location(column), counts: result.usage, at: counted)
    }

    /// Opens every value under its context and checks every imported account (`verify`, `--verify-only`).
    public func verify() async throws -> MigrationReport {
        let start = ContinuousClock.now
        var report = MigrationReport(mode: "verify")
        if let path = spec.rbacDatabase {
            report.accounts = try await usingRBAC(path) { rbac in
                var accounts = MigrationReport.Accounts()
                let plans = try await planAccounts(rbac, report: &accounts)
                // Users the plan cannot import are failures of the verification too.
                try await verifyAccounts(plans, rbac: rbac, report: &accounts)
                return accounts
            }
        }
        let databases = try await openDatabases(readOnly: true, notes: &report.notes)
        try await using(databases) { try await verifyColumns(databases, report: &report) }
        report.elapsedSeconds = ProgressMeter.seconds(ContinuousClock.now - start)
        return report
    }

    /// Puts the backed-up values back (where the application has not changed them since, unless
    /// `force`), then sets the journal and backup aside so that a later run starts afresh.
    public func restore(force: Bool) async throws -> MigrationReport {
        guard let directory = spec.backupDirectory else { throw MigrationError("give the backup directory to restore from (--backup-dir)") }
        try MigrationBackup.checkPrivateDirectory(directory)
        let backup = MigrationBackup(stateDirectory: directory, masterKey: services.masterKey)
        return try await FileLock.withExclusiveLock(directory + "/lock", timeout: .seconds(1)) {
            guard let manifest = try backup.readManifest() else { throw MigrationError("no backup in \(directory)") }
            _ = try backup.verify(manifest)
            var report = MigrationReport(mode: "restore")
            let databases = try await openDatabases(readOnly: false, notes: &report.notes)
            try await using(databases) { try await restoreColumns(databases, backup: backup, manifest: manifest, force: force, report: &report) }
            for file in manifest.files {
                let copy = directory + "/restored-" + (file.source as NSString).lastPathComponent
                try SecureFile.replaceAtomically(copy, bytes: try backup.readFile(file), mode: 0o600)
                report.notes.append("the backed-up \(file.source) is at \(copy) (imported accounts are kept in Warden; remove them with `warden users delete` if wanted)")
            }
            if report.succeeded {
                let journal = try MigrationJournal(stateDirectory: directory)
                try journal.append(.init(kind: .restored))
                let stamp = String(Int(Date().timeIntervalSince1970))
                try FileManager.default.moveItem(atPath: journal.path, toPath: journal.path + ".restored-\(stamp)")
                try FileManager.default.moveItem(atPath: backup.directory, toPath: backup.directory + ".restored-\(stamp)")
            }
            return report
        }
    }

}

/// What the journal says about the migration in a backup directory (`warden migrate status`).
public enum MigrationStatus {
    public static func describe(backupDirectory directory: String) throws -> String {
        let journal = try MigrationJournal(stateDirectory: directory)
        guard !journal.records.isEmpty else { return "no migration in \(directory)" }
        var lines: [String] = []
        let first = journal.records.first!
        let last = journal.records.last!
        lines.append("journal: \(journal.records.count) records, \(first.at.formatted(.iso8601)) … \(last.at.formatted(.iso8601))")
        if let verified = journal.records.last(where: { $0.kind == .backupVerified }) {
            lines.append("backup: verified, \(verified.note ?? "")")
        } else {
            lines.append("backup: not written or not verified yet")
        }
        if journal.has(.accountsDone) { lines.append("accounts: imported") }
        var locations: [String] = []
        for record in journal.records where record.kind == .batch { if let location = record.location, !locations.contains(location) { locations.append(location) } }
        for location in locations {
            let batches = journal.records.filter { $0.kind == .batch && $0.location == location }
            let rewritten = batches.reduce(0) { $0 + ($1.rewritten ?? 0) }
            let done = journal.has(.columnDone, location: location)
            lines.append("\(location): \(done ? "done" : "in progress"), \(batches.count) batches, \(rewritten) values rewritten, last row \(batches.last?.lastKey?.description ?? "-")")
        }
        let skipped = journal.records.filter { $0.kind == .skipped }.count
        if skipped > 0 { lines.append("skipped (unreadable): \(skipped) rows") }
        lines.append(journal.has(.finished) ? "state: finished" : journal.has(.restored) ? "state: restored" : "state: unfinished (run `warden migrate run` again to resume)")
        return lines.joined(separator: "\n")
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
