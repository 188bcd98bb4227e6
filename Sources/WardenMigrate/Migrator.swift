import Crypto
import Foundation
public import WardenAccess
import WardenAuth
public import WardenCore
public import WardenCrypto
public import WardenSQL

/// Moves an installation of the original system onto Warden: accounts, roles and access history from its
/// `rbac.db`, and encrypted values in place in application databases (the digital-twin profiles first).
///
/// Every mode is safe to interrupt at any moment and to run again:
/// - `plan` reads everything, opens every legacy value, changes nothing;
/// - `run` writes the encrypted backup, verifies it, imports accounts, then rewrites values in batches
///   (one transaction each, compare-and-set on the old value), recording each batch in the journal;
/// - `verify` opens every value under its context and checks every imported account;
/// - `restore` puts the backed-up values back.
public final class Migrator: Sendable {
    /// The Warden services a migration works through.
    public struct Services: Sendable {
        public var cipher: FieldCipher
        public var store: SQLStore
        public var accounts: AccountService
        public var access: AccessService
        public var masterKey: MasterKey
        public var context: AuditContext

        public init(cipher: FieldCipher, store: SQLStore, accounts: AccountService, access: AccessService, masterKey: MasterKey, context: AuditContext) {
            self.cipher = cipher
            self.store = store
            self.accounts = accounts
            self.access = access
            self.masterKey = masterKey
            self.context = context
        }
    }

    let spec: MigrationSpec
    let services: Services
    let quiet: Bool

    public init(spec: MigrationSpec, services: Services, quiet: Bool = false) {
        self.spec = spec
        self.services = services
        self.quiet = quiet
    }

    /// The prefix that puts migrated values in the caller domain (what `POST /v1/crypto/*` binds).
    public static let callerDomain = AccountSecurity.callerDomain

    // MARK: Databases and columns

    struct Opened: Sendable {
        let target: DatabaseTarget
        let database: ApplicationDatabase
        let columns: [ColumnTarget]

        func location(_ column: ColumnTarget) -> String { "\(target.name)/\(column.table)/\(column.column)" }
    }

    /// The original digital-twin schema's encrypted columns (original-databases.md §2).
    static let twinColumns: [(table: String, columns: [String])] = [
        ("learning_profiles", ["learning_style_encrypted", "knowledge_domains_encrypted", "learning_goals_encrypted", "privacy_settings_encrypted"]),
        ("learning_sessions", ["topics_covered_encrypted", "performance_metrics_encrypted", "engagement_score_encrypted"]),
        ("knowledge_states", ["learning_trajectory_encrypted"]),
    ]

    /// Opens every database and resolves its columns (detecting the original's digital-twin schema).
    func openDatabases(readOnly: Bool, notes: inout [String]) async throws -> [Opened] {
        var opened: [Opened] = []
        do {
            for target in spec.databases {
                let database: ApplicationDatabase
                do {
                    database = try await ApplicationDatabase.open(target.location, readOnly: readOnly)
                } catch {
                    throw MigrationError("database '\(target.name)': cannot open \(Self.redacted(target.location)): \(Self.describe(error))")
                }
                do {
                    var columns: [ColumnTarget] = []
                    if target.detect {
                        let profile = try await database.columns(of: "learning_profiles") ?? []
                        let names = Set(profile.map(\.name))
                        if names.contains("user_id_hash"), names.contains("learning_style_encrypted") {
                            notes.append("database '\(target.name)': the original's digital-twin schema (user_id_hash, *_encrypted columns)")
                            for (table, tableColumns) in Self.twinColumns {
                                guard let present = try await database.columns(of: table) else { continue }
                                for column in tableColumns where present.contains(where: { $0.name == column }) {
                                    columns.append(ColumnTarget(table: table, column: column, key: "id"))
                                }
                            }
                        } else if names.contains("student_id") {
                            notes.append(
                                "database '\(target.name)': the other schema that shares the original's file name (database_manager.py: student_id); it holds no ciphertext, nothing to migrate")
                        } else if target.columns.isEmpty {
                            throw MigrationError("database '\(target.name)': not the original's digital-twin schema; name the columns to migrate (--column table.column)")
                        }
                    }
                    for column in target.columns where !columns.contains(where: { $0.table == column.table && $0.column == column.column }) {
                        columns.append(column)
                    }
                    opened.append(Opened(target: target, database: database, columns: try await resolve(columns, in: database, name: target.name)))
                } catch let error as MigrationError {
                    await database.close()
                    throw error
                } catch {
                    await database.close()
                    throw MigrationError("database '\(target.name)': cannot read \(Self.redacted(target.location)): \(Self.describe(error))")
                }
            }
        } catch {
            for database in opened { await database.database.close() }
            throw error
        }
        return opened
    }

    private func resolve(_ columns: [ColumnTarget], in database: ApplicationDatabase, name: String) async throws -> [ColumnTarget] {
        var resolved: [ColumnTarget] = []
        for var column in columns {
            let place = "database '\(name)', \(column.table).\(column.column)"
            guard let info = try await database.columns(of: column.table) else { throw MigrationError("\(place): no table \(column.table)") }
            guard let value = info.first(where: { $0.name == column.column }) else { throw MigrationError("\(place): no column \(column.column)") }
            guard let key = info.first(where: { $0.name == column.key }) else { throw MigrationError("\(place): no key column \(column.key)") }
            guard key.primaryKey, info.filter(\.primaryKey).count == 1 else {
                throw MigrationError("\(place): the key column \(column.key) must be the table's single-column primary key")
            }
            switch database.kind {
            case .sqlite:
                column.keyIsInteger = key.type.contains("int")
                column.storage = value.type.contains("blob") ? .bytes : (value.type.contains("char") || value.type.contains("text") || value.type.contains("clob")) ? .text : .dynamic
            case .postgres:
                column.keyIsInteger = ["smallint", "integer", "bigint"].contains(key.type)
                column.keyType = key.type
                column.valueType = value.type
                if value.type == "bytea" {
                    column.storage = .bytes
                } else if value.type == "text" || value.type.hasPrefix("character varying") {
                    column.storage = .text
                } else {
                    throw MigrationError("\(place): a column of type \(value.type) holds no ciphertext (text or bytea expected)")
                }
            }
            resolved.append(column)
        }
        return resolved
    }

    static func closeAll(_ databases: [Opened]) async {
        for database in databases { await database.database.close() }
    }

    /// Runs `body`, then closes `databases`, whether or not `body` threw.
    func using<T>(_ databases: [Opened], _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await Self.closeAll(databases)
            return result
        } catch {
            await Self.closeAll(databases)
            throw error
        }
    }

    /// Opens the original's rbac.db, runs `body` with it, closes it.
    func usingRBAC<T>(_ path: String, _ body: (RBACDatabase) async throws -> T) async throws -> T {
        let rbac = try await RBACDatabase.open(path)
        do {
            let result = try await body(rbac)
            await rbac.close()
            return result
        } catch {
            await rbac.close()
            throw error
        }
    }

    /// Calls `body` with every page of `column` in key order (from the start), showing progress as `label`.
    func forEachPage(_ database: Opened, _ column: ColumnTarget, label: String, limit: Int? = nil, _ body: ([(RowKey, Cell)]) async throws -> Void) async throws {
        let progress = ProgressMeter(label: label, total: try await database.database.rowCount(column.table), quiet: quiet)
        var after: RowKey?
        while true {
            let page = try await database.database.page(column, after: after, limit: limit ?? spec.batchSize)
            guard let last = page.last else { break }
            after = last.0
            try await body(page)
            progress.advance(by: page.count)
        }
        progress.finish()
    }

    // MARK: Opening values

    /// What a legacy or plaintext value opens to, or why it does not.
    enum Opening: Sendable {
        case plaintext(Data, format: String)
        case failed(String)
    }

    /// Whether a run rewrites `cell`: legacy formats, plaintext (unless kept), and with
    /// ``MigrationSpec/rewrapOldVersions`` envelopes under another version than the primary.
    func rewrites(_ cell: Cell, _ format: ValueFormat) -> Bool {
        if format.isRewritten(sealingPlaintext: spec.sealPlaintext) { return true }
        guard spec.rewrapOldVersions, format == .envelope, let version = Self.envelopeVersion(cell) else { return false }
        return version != services.cipher.keyring.primaryVersion
    }

    /// Opens a value that is to be rewritten.
    func openForRewrite(_ cell: Cell, format: ValueFormat, context: String) throws -> Opening {
        guard let bytes = cell.bytes else { return .failed("no value") }
        switch format {
        case .envelope:
            do {
                let opened = try services.cipher.open(bytes, context: context)
                return .plaintext(opened.plaintext, format: "envelope-v\(opened.source.keyVersion.map(String.init) ?? "?")")
            } catch {
                return .failed("a Warden envelope that does not open under its context (\(error.code.rawValue))")
            }
        case .plaintext:
            return .plaintext(bytes, format: "plaintext")
        case .legacyJSON, .fernet:
            do {
                let opened =
                    spec.keepTwinMeta
                    ? try services.cipher.openKeepingTwinWrapper(bytes, context: context)
                    : try services.cipher.open(bytes, context: context)
                return .plaintext(opened.plaintext, format: opened.source.format)
            } catch  where error.code == .legacyKeyMissing {
                throw MigrationError(error.message)
            } catch {
                return .failed("opens under no key (\(format.rawValue))")
            }
        default:
            return .failed("not a value to rewrite (\(format.rawValue))")
        }
    }

    /// What becomes of one row of a page.
    enum RowWork: Sendable {
        /// Nothing to do (not rewritten).
        case keep
        case failed(String)
        /// Opens to `plaintext` (and, when sealing, becomes `sealed`).
        case opened(Data, sealed: Cell?)
    }

    /// Opens (and, with `sealing`, seals) every row of a page that a run rewrites, on every processor
    /// at once: opening and sealing are pure computation, the page is read and written on the database's
    /// own thread.
    func work(_ page: [(RowKey, Cell)], _ column: ColumnTarget, sealing: Bool) async throws -> [RowWork] {
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, page.count / 64))
        let size = (page.count + parts - 1) / max(parts, 1)
        return try await withThrowingTaskGroup(of: (Int, [RowWork]).self) { group in
            for part in 0..<parts {
                let slice = page[min(part * size, page.count)..<min((part + 1) * size, page.count)]
                group.addTask {
                    var results: [RowWork] = []
                    results.reserveCapacity(slice.count)
                    for (key, cell) in slice {
                        let format = ValueFormat.of(cell)
                        guard self.rewrites(cell, format) else {
                            results.append(.keep)
                            continue
                        }
                        let context = self.callerContext(column, key)
                        guard sealing else {
                            results.append(try self.check(cell, format: format, context: context).map { .failed($0) } ?? .opened(Data(), sealed: nil))
                            continue
                        }
                        switch try self.openForRewrite(cell, format: format, context: context) {
                        case .failed(let reason): results.append(.failed(reason))
                        case .plaintext(let plaintext, _):
                            results.append(.opened(plaintext, sealed: try await self.sealed(plaintext, like: cell, context: context)))
                        }
                    }
                    return (part, results)
                }
            }
            var ordered = [[RowWork]](repeating: [], count: parts)
            for try await (part, results) in group { ordered[part] = results }
            return ordered.flatMap { $0 }
        }
    }

    /// Checks that a value to be rewritten is authentic, as cheaply as its format allows (``FieldCipher/authenticate(_:context:)``);
    /// returns why not, or `nil`.
    func check(_ cell: Cell, format: ValueFormat, context: String) throws -> String? {
        guard format != .plaintext else { return nil }
        guard let bytes = cell.bytes else { return "no value" }
        do {
            _ = try services.cipher.authenticate(bytes, context: context)
            return nil
        } catch  where error.code == .legacyKeyMissing {
            throw MigrationError(error.message)
        } catch {
            return format == .envelope ? "a Warden envelope that does not open under its context (\(error.code.rawValue))" : "opens under no key (\(format.rawValue))"
        }
    }

    /// The rewritten cell: binary envelope in a BLOB, text envelope in a text cell.
    func sealed(_ plaintext: Data, like cell: Cell, context: String) async throws -> Cell {
        let envelope = try await services.cipher.seal(plaintext, context: context)
        if case .blob = cell { return .blob(envelope.binary) }
        return .text(envelope.text)
    }

    func callerContext(_ column: ColumnTarget, _ key: RowKey) -> String {
        Self.callerDomain + column.context(for: key)
    }

    // MARK: Helpers

    static func redacted(_ location: String) -> String {
        guard location.hasPrefix("postgres"), var components = URLComponents(string: location) else { return location }
        components.password = components.password == nil ? nil : "***"
        return components.string ?? "postgres"
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? MigrationError { return error.description }
        if let error = error as? WardenCryptoError { return error.message }
        if let error = error as? SQLStoreError { return error.message }
        let text = String(describing: error)
        // Database errors can quote a statement; statements here carry values only as parameters.
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
