import Foundation
import Logging
import PostgresKit
import SQLKit
import SQLiteKit
import WardenSQL

/// An application's database whose columns `warden migrate` reads and rewrites in place: a SQLite file
/// (opened as it is: its journal mode is left alone) or PostgreSQL.
public final class ApplicationDatabase: Sendable {
    /// A column's name, declared type and whether it is (part of) the primary key.
    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: String
        public let primaryKey: Bool
    }

    /// Where the database is, as given (a path or a URL; URLs are never printed with their password).
    public let location: String
    let backend: any SQLBackend

    var kind: SQLDialectKind { backend.kind }

    private init(location: String, backend: any SQLBackend) {
        self.location = location
        self.backend = backend
    }

    /// Opens `location`: `postgres://…` / `postgresql://…`, or a SQLite file path (optionally
    /// `sqlite:path`). A SQLite file must exist.
    public static func open(_ location: String, readOnly: Bool = false) async throws -> ApplicationDatabase {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            let backend = try await PostgresBackend.open(url: location, maxConnections: 2)
            return ApplicationDatabase(location: location, backend: backend)
        }
        let path = location.hasPrefix("sqlite:") ? String(location.dropFirst("sqlite:".count)) : location
        return ApplicationDatabase(location: location, backend: try await SQLiteBackend.openExisting(path: path, readOnly: readOnly))
    }

    public func close() async {
        try? await backend.close()
    }

    /// The table's columns, or `nil` when there is no such table.
    public func columns(of table: String) async throws -> [Column]? {
        let rows: [Column] = try await backend.withConnection { [kind] database in
            switch kind {
            case .sqlite:
                return try await database.raw("SELECT name, type, pk FROM pragma_table_info(\(bind: table))").all().map { row in
                    Column(
                        name: try row.decode(column: "name", as: String.self),
                        type: try row.decode(column: "type", as: String.self).lowercased(),
                        primaryKey: try row.decode(column: "pk", as: Int64.self) > 0)
                }
            case .postgres:
                return try await database.raw(
                    """
                    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, \
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)) AS pk \
                    FROM pg_attribute a \
                    WHERE a.attrelid = to_regclass(quote_ident(\(bind: table))) AND a.attnum > 0 AND NOT a.attisdropped \
                    ORDER BY a.attnum
                    """
                ).all().map { row in
                    Column(
                        name: try row.decode(column: "name", as: String.self),
                        type: try row.decode(column: "type", as: String.self).lowercased(),
                        primaryKey: try row.decode(column: "pk", as: Bool.self))
                }
            }
        }
        return rows.isEmpty ? nil : rows
    }

    /// How many rows `table` has.
    func rowCount(_ table: String) async throws -> Int {
        try await backend.withConnection { database in
            Int(try await database.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int64.self) ?? 0)
        }
    }

    /// Up to `limit` rows of `table` with keys after `after`, in key order: each key and the cell of `column`.
    func page(_ target: ColumnTarget, after: RowKey?, limit: Int) async throws -> [(RowKey, Cell)] {
        if let sqlite = backend as? SQLiteBackend {
            // SQLite's own values, without SQLKit's `Codable` decoding (a few microseconds a row).
            let table = Self.quote(target.table)
            let key = Self.quote(target.key)
            let column = Self.quote(target.column)
            let sql = "SELECT \(key) AS k, \(column) AS v FROM \(table)" + (after == nil ? "" : " WHERE \(key) > ?1") + " ORDER BY \(key) LIMIT \(limit)"
            let binds = after.map { [$0.sqliteData] } ?? []
            return try await sqlite.withSQLiteConnection { connection in
                try await connection.query(sql, binds).map { row in
                    guard let key = RowKey(row.column("k")) else { throw MigrationError("\(target.name): a row has a key that is neither an integer nor text") }
                    return (key, Cell(row.column("v")))
                }
            }
        }
        if let postgres = backend as? PostgresBackend {
            let table = Self.quote(target.table)
            let key = Self.quote(target.key)
            let column = Self.quote(target.column)
            let sql =
                "SELECT \(key)::\(target.keyIsInteger ? "bigint" : "text") AS k, \(column) AS v FROM \(table)"
                + (after == nil ? "" : " WHERE \(key) > $1::\(target.keyType)") + " ORDER BY \(key) LIMIT \(limit)"
            var binds = PostgresBindings()
            if let after { after.append(to: &binds) }
            let query = PostgresQuery(unsafeSQL: sql, binds: binds)
            return try await postgres.withPostgresConnection { connection in
                var result: [(RowKey, Cell)] = []
                let rows = try await connection.query(query, logger: Self.logger)
                for try await row in rows {
                    let cells = row.makeRandomAccess()
                    let key: RowKey = target.keyIsInteger ? .integer(try cells[0].decode(Int64.self)) : .text(try cells[0].decode(String.self))
                    let cell: Cell
                    if target.storage == .bytes {
                        cell = try cells[1].decode(ByteBuffer?.self).map { .blob(Data($0.readableBytesView)) } ?? .null
                    } else {
                        cell = try cells[1].decode(String?.self).map { .text($0) } ?? .null
                    }
                    result.append((key, cell))
                }
                return result
            }
        }
        return try await backend.withConnection { [kind] database in
            var query: SQLQueryString =
                switch kind {
                case .sqlite: "SELECT \(ident: target.key) AS k, typeof(\(ident: target.key)) AS kt, typeof(\(ident: target.column)) AS vt, \(ident: target.column) AS v FROM \(ident: target.table)"
                case .postgres: "SELECT \(ident: target.key)::\(unsafeRaw: target.keyIsInteger ? "bigint" : "text") AS k, \(ident: target.column) AS v FROM \(ident: target.table)"
                }
            if let after {
                query += " WHERE \(ident: target.key) > \(bind: after.bindable)"
            }
            query += " ORDER BY \(ident: target.key) LIMIT \(literal: limit)"
            return try await database.raw(query).all().map { row in
                let key: RowKey
                switch kind {
                case .sqlite:
                    key =
                        try row.decode(column: "kt", as: String.self) == "integer"
                        ? .integer(try row.decode(column: "k", as: Int64.self)) : .text(try row.decode(column: "k", as: String.self))
                case .postgres:
                    key = target.keyIsInteger ? .integer(try row.decode(column: "k", as: Int64.self)) : .text(try row.decode(column: "k", as: String.self))
                }
                return (key, try Self.cell(row, kind: kind, target: target))
            }
        }
    }

    /// The cells of the rows with `keys` (rows that are gone are missing), 2,000 keys per query.
    func cells(_ target: ColumnTarget, keys: [RowKey]) async throws -> [RowKey: Cell] {
        var result: [RowKey: Cell] = [:]
        for start in stride(from: 0, to: keys.count, by: 2000) {
            let slice = keys[start..<min(start + 2000, keys.count)]
            if let sqlite = backend as? SQLiteBackend {
                let key = Self.quote(target.key)
                let sql =
                    "SELECT \(key) AS k, \(Self.quote(target.column)) AS v FROM \(Self.quote(target.table)) WHERE \(key) IN (" + Array(repeating: "?", count: slice.count).joined(separator: ", ") + ")"
                let rows = try await sqlite.withSQLiteConnection { try await $0.query(sql, slice.map(\.sqliteData)) }
                for row in rows { if let key = RowKey(row.column("k")) { result[key] = Cell(row.column("v")) } }
            } else {
                let rows = try await backend.withConnection { database in
                    try await database.raw(
                        """
                        SELECT \(ident: target.key)::\(unsafeRaw: target.keyIsInteger ? "bigint" : "text") AS k, \(ident: target.column) AS v \
                        FROM \(ident: target.table) WHERE \(ident: target.key) IN (\(binds: slice.map(\.bindable)))
                        """
                    ).all()
                }
                for row in rows {
                    let key: RowKey = target.keyIsInteger ? .integer(try row.decode(column: "k", as: Int64.self)) : .text(try row.decode(column: "k", as: String.self))
                    result[key] = try Self.cell(row, kind: .postgres, target: target)
                }
            }
        }
        return result
    }

    static func cell(_ row: any SQLRow, kind: SQLDialectKind, target: ColumnTarget) throws -> Cell {
        switch kind {
        case .sqlite:
            return switch try row.decode(column: "vt", as: String.self) {
            case "null": .null
            case "text": .text(try row.decode(column: "v", as: String.self))
            case "blob": .blob(try row.decode(column: "v", as: Data.self))
            case let other: .other(other)
            }
        case .postgres:
            if try row.decodeNil(column: "v") { return .null }
            return target.storage == .bytes ? .blob(try row.decode(column: "v", as: Data.self)) : .text(try row.decode(column: "v", as: String.self))
        }
    }

    /// Sets each row's cell to `new` where it still holds `old`, in one transaction; returns the keys
    /// that were changed (a key missing from the result was changed by someone else meanwhile, or is gone).
    func compareAndSet(_ target: ColumnTarget, _ changes: [(key: RowKey, old: Cell, new: Cell)]) async throws -> Set<RowKey> {
        guard !changes.isEmpty else { return [] }
        if let sqlite = backend as? SQLiteBackend { return try await sqliteCompareAndSet(sqlite, target, changes) }
        guard let postgres = backend as? PostgresBackend else { throw MigrationError("\(target.name): unsupported database") }
        // PostgreSQL: one UPDATE … FROM (VALUES …) per 2,000 rows (65,535 parameters per statement), with
        // the column types cast explicitly and PostgreSQL's own values bound.
        let table = Self.quote(target.table)
        let key = Self.quote(target.key)
        let column = Self.quote(target.column)
        var queries: [PostgresQuery] = []
        for start in stride(from: 0, to: changes.count, by: 2000) {
            let slice = changes[start..<min(start + 2000, changes.count)]
            var binds = PostgresBindings(capacity: slice.count * 3)
            var sql = "UPDATE \(table) SET \(column) = v.new FROM (VALUES "
            for (index, change) in slice.enumerated() {
                let n = index * 3
                sql += "\(index > 0 ? ", " : "")($\(n + 1)::\(target.keyType), $\(n + 2)::\(target.valueType), $\(n + 3)::\(target.valueType))"
                change.key.append(to: &binds)
                change.old.append(to: &binds)
                change.new.append(to: &binds)
            }
            sql += ") AS v(k, old, new) WHERE \(table).\(key) = v.k AND \(table).\(column) IS NOT DISTINCT FROM v.old RETURNING \(table).\(key)::text"
            queries.append(PostgresQuery(unsafeSQL: sql, binds: binds))
        }
        let keyIsInteger = target.keyIsInteger
        let statements = queries
        return try await postgres.connectionTransaction { connection in
            var changed: Set<RowKey> = []
            for query in statements {
                for try await text in try await connection.query(query, logger: Self.logger).decode(String.self) {
                    changed.insert(keyIsInteger ? (Int64(text).map(RowKey.integer) ?? .text(text)) : .text(text))
                }
            }
            return changed
        }
    }
}

extension ApplicationDatabase {
    /// SQLite's compare-and-set: the batch goes into a temporary table keyed like the target's keys, and
    /// the update looks each row up by key (`UPDATE … FROM (VALUES …)` costs ten times as much in SQLite
    /// 3.54); values are bound as SQLite's own.
    private func sqliteCompareAndSet(_ sqlite: SQLiteBackend, _ target: ColumnTarget, _ changes: [(key: RowKey, old: Cell, new: Cell)]) async throws -> Set<RowKey> {
        let integerKeys = changes.allSatisfy { if case .integer = $0.key { true } else { false } }
        let name = integerKeys ? "warden_migrate_cas_integer" : "warden_migrate_cas_text"
        let cas = "temp." + name
        let table = Self.quote(target.table)
        let key = Self.quote(target.key)
        let column = Self.quote(target.column)
        let update = """
            UPDATE \(table) SET \(column) = (SELECT new FROM \(cas) WHERE \(cas).k = \(table).\(key)) \
            WHERE \(key) IN (SELECT k FROM \(cas)) AND \(column) IS (SELECT old FROM \(cas) WHERE \(cas).k = \(table).\(key)) \
            RETURNING \(key) AS k
            """
        return try await sqlite.connectionTransaction { connection in
            _ = try await connection.query("CREATE TEMP TABLE IF NOT EXISTS \(name) (k \(integerKeys ? "INTEGER" : "TEXT") PRIMARY KEY, old, new)")
            var changed: Set<RowKey> = []
            // SQLite allows 32,766 parameters per statement: 3 per row, 2,000 rows at a time.
            for start in stride(from: 0, to: changes.count, by: 2000) {
                let slice = changes[start..<min(start + 2000, changes.count)]
                _ = try await connection.query("DELETE FROM \(cas)")
                var binds: [SQLiteData] = []
                binds.reserveCapacity(slice.count * 3)
                var sql = "INSERT INTO \(cas) (k, old, new) VALUES "
                for (index, change) in slice.enumerated() {
                    sql += index == 0 ? "(?, ?, ?)" : ", (?, ?, ?)"
                    binds.append(change.key.sqliteData)
                    binds.append(change.old.sqliteData)
                    binds.append(change.new.sqliteData)
                }
                _ = try await connection.query(sql, binds)
                for row in try await connection.query(update) {
                    if let key = RowKey(row.column("k")) { changed.insert(key) }
                }
            }
            return changed
        }
    }

    static let logger = Logger(label: "warden.migrate")

    /// A quoted SQL identifier.
    static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension RowKey {
    init?(_ data: SQLiteData?) {
        switch data {
        case .integer(let value): self = .integer(Int64(value))
        case .text(let text): self = .text(text)
        default: return nil
        }
    }

    var sqliteData: SQLiteData {
        switch self {
        case .integer(let value): .integer(Int(value))
        case .text(let text): .text(text)
        }
    }
}

extension RowKey {
    func append(to binds: inout PostgresBindings) {
        switch self {
        case .integer(let value): binds.append(value)
        case .text(let text): binds.append(text)
        }
    }
}

extension Cell {
    func append(to binds: inout PostgresBindings) {
        switch self {
        case .null, .other: binds.appendNull()
        case .text(let text): binds.append(text)
        case .blob(let data): binds.append(ByteBuffer(bytes: data))
        }
    }

    init(_ data: SQLiteData?) {
        switch data {
        case .none, .null?: self = .null
        case .text(let text)?: self = .text(text)
        case .blob(let buffer)?: self = .blob(Data(buffer.readableBytesView))
        case .integer?: self = .other("integer")
        case .float?: self = .other("real")
        }
    }

    var sqliteData: SQLiteData {
        switch self {
        case .null, .other: .null
        case .text(let text): .text(text)
        case .blob(let data): .blob(ByteBuffer(bytes: data))
        }
    }
}

extension RowKey {
    var bindable: any Encodable & Sendable {
        switch self {
        case .integer(let value): value
        case .text(let value): value
        }
    }
}

extension Cell {
    var bindable: any Encodable & Sendable {
        switch self {
        case .null, .other: String?.none
        case .text(let text): text
        case .blob(let data): data
        }
    }
}
