import Crypto
import Foundation
import WardenCore
import WardenCrypto
import WardenSQL

extension Migrator {
    // MARK: Plan

    /// Counts every column's values by format and opens every legacy value; changes nothing.
    func planColumns(_ databases: [Opened], report: inout MigrationReport) async throws {
        for database in databases {
            for column in database.columns {
                var entry = MigrationReport.Column(location: database.location(column))
                try await forEachPage(database, column, label: "plan \(entry.location)") { page in
                    for (key, cell) in page {
                        entry.rows += 1
                        let format = ValueFormat.of(cell)
                        guard rewrites(cell, format) else {
                            entry.formats[name(format, cell), default: 0] += 1
                            continue
                        }
                        switch try openForRewrite(cell, format: format, context: callerContext(column, key)) {
                        case .plaintext(_, let opened): entry.formats[opened, default: 0] += 1
                        case .failed(let reason):
                            entry.formats[format.rawValue, default: 0] += 1
                            entry.fail(key, reason)
                        }
                    }
                }
                report.columns.append(entry)
            }
        }
    }

    /// A format's name in reports: envelopes with their key version.
    func name(_ format: ValueFormat, _ cell: Cell) -> String {
        guard format == .envelope, let version = Self.envelopeVersion(cell) else { return format.rawValue }
        return "envelope-v\(version)"
    }

    static func envelopeVersion(_ cell: Cell) -> UInt32? {
        switch cell {
        case .blob(let data): try? FieldEnvelope(binary: data).keyVersion
        case .text(let text): try? FieldEnvelope(text: text).keyVersion
        default: nil
        }
    }

    // MARK: Backup

    /// Writes the backup of every value to be rewritten and of the source files, then reads it all back.
    /// Unreadable values stop here, before any write (or, with `skip_unreadable`, are journalled and
    /// left as they are).
    func writeBackup(_ databases: [Opened], backup: MigrationBackup, journal: MigrationJournal) async throws -> (MigrationBackup.Manifest, BackedUpKeys) {
        try backup.reset()
        var manifest = MigrationBackup.Manifest(created: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)), columns: [], files: [])
        var columnIndex = 0
        for database in databases {
            for column in database.columns {
                let location = database.location(column)
                var record = MigrationBackup.Manifest.Column(location: location, chunks: [])
                var pending: [MigrationBackup.Entry] = []
                try await forEachPage(database, column, label: "backup \(location)") { page in
                    for ((key, cell), work) in zip(page, try await work(page, column, sealing: false)) {
                        switch work {
                        case .keep: continue
                        case .failed(let reason):
                            guard spec.skipUnreadable else {
                                throw MigrationError(
                                    "\(location) row \(key): the value \(reason); nothing was changed (fix the legacy keys, or run with --skip-unreadable to leave such rows as they are)")
                            }
                            try journal.append(.init(kind: .skipped, location: location, lastKey: key, note: reason))
                            continue
                        case .opened: break
                        }
                        pending.append(.init(key: key, cell: cell))
                        if pending.count == MigrationBackup.valuesPerChunk {
                            record.chunks.append(try backup.writeChunk(columnIndex: columnIndex, index: record.chunks.count, entries: pending))
                            pending.removeAll(keepingCapacity: true)
                        }
                    }
                }
                if !pending.isEmpty {
                    record.chunks.append(try backup.writeChunk(columnIndex: columnIndex, index: record.chunks.count, entries: pending))
                }
                manifest.columns.append(record)
                columnIndex += 1
            }
        }
        if let rbac = spec.rbacDatabase {
            manifest.files.append(try backup.writeFile(source: rbac, label: "rbac.db"))
        }
        try backup.writeManifest(manifest)
        // Read back what was written before trusting it.
        guard var written = try backup.readManifest() else { throw MigrationError("the backup manifest did not read back") }
        let mac = written.mac
        written.mac = nil
        guard written == manifest else { throw MigrationError("the backup manifest did not read back as written") }
        written.mac = mac
        let keys = try BackedUpKeys.load(written, from: backup)
        guard keys.count == manifest.valueCount else { throw MigrationError("the backup read back holds \(keys.count) values, not \(manifest.valueCount)") }
        try journal.append(.init(kind: .backupVerified, rows: manifest.valueCount, note: "\(manifest.valueCount) values, \(manifest.files.count) files"))
        return (manifest, keys)
    }

    // MARK: Rewriting

    /// Rewrites one column's legacy values from the journal's cursor on, in batches; then passes over
    /// the column again until no legacy value is left (a value changed by the application between the
    /// read and the write is not overwritten: it is read again in the next pass).
    func rewrite(
        _ database: Opened, _ column: ColumnTarget, columnIndex: Int, backup: MigrationBackup, manifest: inout MigrationBackup.Manifest,
        backedUp: BackedUpKeys, journal: MigrationJournal, report: inout MigrationReport.Column
    ) async throws -> (Tally, Date)? {
        let location = database.location(column)
        let skipped = journal.skipped(for: location)
        let total = try await database.database.rowCount(column.table)
        // A resumed run continues the pass it was in, after its last recorded batch, and skips columns it
        // finished; after a finished migration, a new run passes over every column afresh (values the
        // application wrote since are picked up).
        let last = journal.cursor(for: location)
        let state = journal.columnState(location)
        if state.done, !state.migrationFinishedSince {
            report.rows = total
            return nil
        }
        // A pass from the start without conflicts counts the column as it goes.
        var tally: (Tally, Date)?
        let resumed: (pass: Int, lastKey: RowKey?)? = state.done ? last.map { ($0.pass + 1, nil) } : last
        var after = resumed?.lastKey
        var lateChunks = manifest.columns.first { $0.location == location }?.chunks.filter { $0.file.contains("-late") }.count ?? 0
        for pass in (resumed?.pass ?? 1)...max(5, resumed?.pass ?? 1) {
            var passTally: Tally? = after == nil ? Tally() : nil
            let passStarted = Date()
            let progress = ProgressMeter(label: pass == 1 ? "rewrite \(location)" : "rewrite \(location) (pass \(pass))", total: total, quiet: quiet)
            // Pipelined: while one batch is written (on the database's thread), the next is read and
            // opened and sealed (on the other cores). Each batch is still written and journalled in order.
            let skippedKeys = skipped
            let batchSize = spec.batchSize
            let db = database.database
            @Sendable func prepare(_ page: [(RowKey, Cell)]) async throws -> [RowWork] {
                let pending = skippedKeys.isEmpty ? page : page.filter { !skippedKeys.contains($0.0.description) }
                return try await work(pending, column, sealing: true)
            }
            var page = try await db.page(column, after: after, limit: batchSize)
            var prepared = page.isEmpty ? [] : try await prepare(page)
            while let last = page.last {
                let next = try await db.page(column, after: last.0, limit: batchSize)
                async let nextPrepared = next.isEmpty ? [] : prepare(next)
                var changes: [(key: RowKey, old: Cell, new: Cell)] = []
                var late: [MigrationBackup.Entry] = []
                let pending = skipped.isEmpty ? page : page.filter { !skipped.contains($0.0.description) }
                if pass == 1 {
                    report.rows += page.count
                    for (key, _) in page where skipped.contains(key.description) { report.fail(key, "skipped: the value opens under no key (left as it was)") }
                }
                for ((key, cell), work) in zip(pending, prepared) {
                    switch work {
                    case .keep: continue
                    case .failed(let reason):
                        guard spec.skipUnreadable else {
                            throw MigrationError("\(location) row \(key): the value \(reason); this batch was not written")
                        }
                        report.fail(key, reason)
                        try journal.append(.init(kind: .skipped, location: location, lastKey: key, note: reason))
                    case .opened(_, let new):
                        // A value written after the backup was taken is backed up before it is changed.
                        if !backedUp.contains(location: location, key: key, cell: cell) { late.append(.init(key: key, cell: cell)) }
                        if let new { changes.append((key, cell, new)) }
                    }
                }
                if !late.isEmpty {
                    let chunk = try backup.writeChunk(columnIndex: columnIndex, index: lateChunks, suffix: "late", entries: late)
                    lateChunks += 1
                    if let index = manifest.columns.firstIndex(where: { $0.location == location }) {
                        manifest.columns[index].chunks.append(chunk)
                    } else {
                        manifest.columns.append(.init(location: location, chunks: [chunk]))
                    }
                    try backup.writeManifest(manifest)
                    for entry in late { backedUp.insert(location: location, key: entry.key, cell: entry.cell) }
                }
                let changed: Set<RowKey>
                do {
                    changed = try await db.compareAndSet(column, changes)
                } catch {
                    throw MigrationError("\(location): writing the batch after row \(after.map(\.description) ?? "(start)") failed: \(Self.describe(error)); this batch was not written")
                }
                report.rewritten += changed.count
                if passTally != nil {
                    let written = Dictionary(changes.map { ($0.key, $0.new) }, uniquingKeysWith: { first, _ in first })
                    for (key, cell) in page { passTally?.add(changed.contains(key) ? written[key] ?? cell : cell, self) }
                }
                after = last.0
                try journal.append(
                    .init(
                        kind: .batch, location: location, lastKey: last.0, rows: page.count, rewritten: changed.count,
                        conflicts: changes.count - changed.count, pass: pass))
                progress.advance(by: page.count)
                page = next
                prepared = try await nextPrepared
            }
            progress.finish()
            // Again from the start when this pass (in this run or a killed one) lost a race with the
            // application: those rows are read again.
            after = nil
            if journal.conflicts(for: location, pass: pass) == 0 {
                tally = passTally.map { ($0, passStarted) }
                break
            }
        }
        try journal.append(.init(kind: .columnDone, location: location))
        return tally
    }

    // MARK: Verifying

    /// Opens every value of every column under its context; counts formats and key versions, records
    /// the counts for key-version accounting, and lists what does not open.
    func verifyColumns(_ databases: [Opened], report: inout MigrationReport) async throws {
        for database in databases {
            for column in database.columns {
                let location = database.location(column)
                var entry = MigrationReport.Column(location: location)
                var usage: [String: Int64] = [:]
                let counted = Date()
                try await forEachPage(database, column, label: "verify \(location)") { page in
                    for (key, cell) in page {
                        entry.rows += 1
                        let format = ValueFormat.of(cell)
                        switch format {
                        case .envelope:
                            guard let bytes = cell.bytes else { continue }
                            do {
                                let opened = try services.cipher.open(bytes, context: callerContext(column, key))
                                let version = opened.source.keyVersion.map(String.init) ?? opened.source.format
                                entry.formats["envelope-v\(version)", default: 0] += 1
                                usage[version, default: 0] += 1
                            } catch {
                                entry.formats["envelope-unreadable", default: 0] += 1
                                let code = (error as? WardenCryptoError)?.code.rawValue ?? "error"
                                entry.fail(key, "a Warden envelope that does not open under its context (\(code))")
                            }
                        case .legacyJSON, .fernet, .plaintext:
                            if format == .plaintext, !spec.sealPlaintext {
                                entry.formats[format.rawValue, default: 0] += 1
                                continue
                            }
                            switch try openForRewrite(cell, format: format, context: callerContext(column, key)) {
                            case .plaintext(_, let opened):
                                entry.remainingLegacy += 1
                                entry.formats[opened, default: 0] += 1
                                usage[opened, default: 0] += 1
                                if entry.failures.count < 100 { entry.failures.append(.init(key: key.description, reason: "still \(opened)")) }
                            case .failed(let reason):
                                entry.formats[format.rawValue, default: 0] += 1
                                entry.fail(key, reason)
                            }
                        case .damagedEnvelope:
                            entry.formats[format.rawValue, default: 0] += 1
                            entry.fail(key, "framed like a Warden envelope but not one")
                        case .null, .empty, .nonText:
                            entry.formats[format.rawValue, default: 0] += 1
                        }
                    }
                }
                try await services.store.recordKeyUsage(location: location, counts: usage, at: counted)
                report.columns.append(entry)
            }
        }
    }

    // MARK: Restoring

    /// Puts every backed-up value back where its row still holds the value this migration wrote (the
    /// same plaintext, sealed); rows the application changed since are left and reported, unless `force`.
    func restoreColumns(_ databases: [Opened], backup: MigrationBackup, manifest: MigrationBackup.Manifest, force: Bool, report: inout MigrationReport) async throws {
        for database in databases {
            for column in database.columns {
                let location = database.location(column)
                var entry = MigrationReport.Column(location: location)
                guard let record = manifest.columns.first(where: { $0.location == location }) else {
                    report.columns.append(entry)
                    continue
                }
                let progress = ProgressMeter(label: "restore \(location)", total: record.values, quiet: quiet)
                for chunk in record.chunks {
                    let entries = try backup.readChunk(chunk)
                    let currentCells = try await database.database.cells(column, keys: entries.map(\.key))
                    var changes: [(key: RowKey, old: Cell, new: Cell)] = []
                    for backed in entries {
                        entry.rows += 1
                        guard let current = currentCells[backed.key] else {
                            entry.fail(backed.key, "the row is gone")
                            continue
                        }
                        if current == backed.cell { continue }
                        let context = callerContext(column, backed.key)
                        let now = current.bytes.flatMap { try? services.cipher.open($0, context: context).plaintext }
                        let then: Data? =
                            switch try openForRewrite(backed.cell, format: ValueFormat.of(backed.cell), context: context) {
                            case .plaintext(let data, _): data
                            case .failed: nil
                            }
                        guard force || (now != nil && now == then) else {
                            entry.fail(backed.key, "changed since the migration (use --force to overwrite)")
                            continue
                        }
                        changes.append((backed.key, current, backed.cell))
                    }
                    let changed = try await database.database.compareAndSet(column, changes)
                    entry.rewritten += changed.count
                    for change in changes where !changed.contains(change.key) { entry.fail(change.key, "changed while restoring") }
                    progress.advance(by: entries.count)
                }
                progress.finish()
                report.columns.append(entry)
            }
        }
    }
}

/// Which (row, value) pairs the backup holds, as 128-bit keyed digests (two SipHash passes of Swift's
/// `Hasher`, seeded at random per process: nothing outside the process can aim a collision at them);
/// a million values take a few tens of MB.
final class BackedUpKeys: @unchecked Sendable {
    private struct Digest: Hashable { let high: Int, low: Int }
    private var digests: Set<Digest> = []
    private let lock = NSLock()

    private static func digest(location: String, key: RowKey, cell: Cell) -> Digest {
        func pass(_ salt: UInt8) -> Int {
            var hasher = Hasher()
            hasher.combine(salt)
            // Exact bytes (a String's own hash treats canonically equivalent texts as one).
            func bytes(_ data: some Collection<UInt8>) {
                hasher.combine(data.count)
                if data.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
                    Array(data).withUnsafeBytes { hasher.combine(bytes: $0) }
                }
            }
            bytes(location.utf8)
            bytes(key.description.utf8)
            switch cell {
            case .blob(let data):
                hasher.combine(0 as UInt8)
                data.withUnsafeBytes { hasher.combine(bytes: $0) }
                hasher.combine(data.count)
            case .text(let text):
                hasher.combine(1 as UInt8)
                bytes(text.utf8)
            case .null, .other: hasher.combine(2 as UInt8)
            }
            return hasher.finalize()
        }
        return Digest(high: pass(0x5A), low: pass(0xA5))
    }

    func insert(location: String, key: RowKey, cell: Cell) {
        let digest = Self.digest(location: location, key: key, cell: cell)
        lock.withLock { _ = digests.insert(digest) }
    }

    var count: Int { lock.withLock { digests.count } }

    func contains(location: String, key: RowKey, cell: Cell) -> Bool {
        let digest = Self.digest(location: location, key: key, cell: cell)
        return lock.withLock { digests.contains(digest) }
    }

    /// Loads every value of `manifest`, reading every chunk back (checksum, authentication, count) and
    /// every backed-up file: a backup that fails here stops the run before any write.
    static func load(_ manifest: MigrationBackup.Manifest, from backup: MigrationBackup) throws -> BackedUpKeys {
        let keys = BackedUpKeys()
        keys.digests.reserveCapacity(manifest.valueCount)
        for column in manifest.columns {
            for chunk in column.chunks {
                for entry in try backup.readChunk(chunk) { keys.insert(location: column.location, key: entry.key, cell: entry.cell) }
            }
        }
        for file in manifest.files { _ = try backup.readFile(file) }
        return keys
    }
}
