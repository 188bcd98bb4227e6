import Foundation

/// One column whose values `warden migrate` rewrites.
public struct ColumnTarget: Sendable, Hashable, Codable {
    public var table: String
    public var column: String
    /// The primary-key column (one column; integer or text).
    public var key: String
    /// The context each value is bound to, with `{table}`, `{column}` and `{key}` replaced; default
    /// `{table}/{column}/{key}`. Values are sealed in the caller domain (`caller:` + this), so an
    /// application opens them through `POST /v1/crypto/decrypt` with this context, or with the library
    /// with `caller:` + this context.
    public var context: String?

    /// How the column stores values (found when the database is inspected).
    enum Storage: String, Sendable, Hashable, Codable { case bytes, text, dynamic }
    var storage: Storage = .dynamic
    var keyIsInteger = true
    /// PostgreSQL's names of the key's and the column's types (for casts).
    var keyType = "bigint"
    var valueType = "text"

    public static let defaultContext = "{table}/{column}/{key}"

    public init(table: String, column: String, key: String, context: String? = nil) {
        self.table = table
        self.column = column
        self.key = key
        self.context = context
    }

    enum CodingKeys: String, CodingKey { case table, column, key, context }

    /// The context a row's value is bound to (before the caller domain).
    public func context(for key: RowKey) -> String {
        guard let context else { return "\(table)/\(column)/\(key.description)" }
        return
            context
            .replacingOccurrences(of: "{table}", with: table)
            .replacingOccurrences(of: "{column}", with: column)
            .replacingOccurrences(of: "{key}", with: key.description)
    }

    /// `table.column`.
    public var name: String { "\(table).\(column)" }
}

/// One application database and the columns to migrate in it.
public struct DatabaseTarget: Sendable, Hashable, Codable {
    /// A short name used in reports, the journal and key accounting (`twin`, `app`, …).
    public var name: String
    /// A SQLite path or a PostgreSQL URL.
    public var location: String
    /// The columns to migrate (besides the detected ones).
    public var columns: [ColumnTarget]
    /// Recognise the original's digital-twin schema by its columns and migrate its encrypted columns
    /// (default: when no columns are named).
    public var detect: Bool

    public init(name: String, location: String, columns: [ColumnTarget] = [], detect: Bool? = nil) {
        self.name = name
        self.location = location
        self.columns = columns
        self.detect = detect ?? columns.isEmpty
    }

    enum CodingKeys: String, CodingKey { case name, location, columns, detect }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        location = try container.decode(String.self, forKey: .location)
        columns = try container.decodeIfPresent([ColumnTarget].self, forKey: .columns) ?? []
        detect = try container.decodeIfPresent(Bool.self, forKey: .detect) ?? columns.isEmpty
    }
}

/// What to do with users of the original who hold no role (the original gave them no permission).
public enum RolelessPolicy: Sendable, Hashable, Codable {
    /// Import them without a role (the original's effective behaviour).
    case none
    /// Grant them this role.
    case grant(String)

    public init(_ text: String) {
        self = text == "none" || text.isEmpty ? .none : .grant(text)
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .grant(let role): role
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Everything one migration needs: sources, targets and options, from flags and/or a JSON file.
///
/// ```json
/// {
///   "backup_dir": "/var/lib/warden/migration",
///   "rbac_db": "./data/rbac.db",
///   "roleless": "none",
///   "databases": [
///     {"name": "twin", "location": "./data/digital_twin.db"},
///     {"name": "app", "location": "postgres://app@db/app",
///      "columns": [{"table": "extra_encrypted", "column": "value", "key": "id"}]}
///   ],
///   "batch_size": 2000,
///   "seal_plaintext": true
/// }
/// ```
public struct MigrationSpec: Sendable, Hashable, Codable {
    /// Where the encrypted backup and the journal live (must not be readable by others).
    public var backupDirectory: String?
    /// The original's `rbac.db` (users, roles, grants, access log), if accounts are migrated.
    public var rbacDatabase: String?
    public var roleless: RolelessPolicy = .none
    public var databases: [DatabaseTarget] = []
    /// Rows per batch (each batch is one transaction).
    public var batchSize: Int = 2000
    /// Seal plaintext found in migrated columns (default true: an encrypted column should hold no
    /// plaintext; the original could not read such values either).
    public var sealPlaintext: Bool = true
    /// Record unreadable values' row keys and go on, instead of stopping.
    public var skipUnreadable: Bool = false
    /// Also re-seal Warden envelopes under versions other than the primary (so that old versions' counts
    /// reach zero and their grace can close).
    public var rewrapOldVersions: Bool = false
    /// Seal a digital-twin token's whole JSON wrapper (`data` and `meta`) instead of its `data` string.
    public var keepTwinMeta: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case backupDirectory = "backup_dir"
        case rbacDatabase = "rbac_db"
        case roleless, databases
        case batchSize = "batch_size"
        case sealPlaintext = "seal_plaintext"
        case skipUnreadable = "skip_unreadable"
        case rewrapOldVersions = "rewrap_old_versions"
        case keepTwinMeta = "keep_twin_meta"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        backupDirectory = try container.decodeIfPresent(String.self, forKey: .backupDirectory)
        rbacDatabase = try container.decodeIfPresent(String.self, forKey: .rbacDatabase)
        roleless = try container.decodeIfPresent(RolelessPolicy.self, forKey: .roleless) ?? .none
        databases = try container.decodeIfPresent([DatabaseTarget].self, forKey: .databases) ?? []
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 2000
        sealPlaintext = try container.decodeIfPresent(Bool.self, forKey: .sealPlaintext) ?? true
        skipUnreadable = try container.decodeIfPresent(Bool.self, forKey: .skipUnreadable) ?? false
        rewrapOldVersions = try container.decodeIfPresent(Bool.self, forKey: .rewrapOldVersions) ?? false
        keepTwinMeta = try container.decodeIfPresent(Bool.self, forKey: .keepTwinMeta) ?? false
    }

    /// Reads a JSON migration file.
    public static func load(path: String) throws -> MigrationSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MigrationError("cannot read the migration file \(path)")
        }
        do {
            return try JSONDecoder().decode(MigrationSpec.self, from: data)
        } catch let error as DecodingError {
            throw MigrationError("the migration file \(path) is not valid: \(MigrationError.describe(error))")
        }
    }

    /// Checks the whole specification; lists every problem at once.
    public func validate() throws {
        var problems: [String] = []
        if rbacDatabase == nil, databases.isEmpty { problems.append("nothing to migrate: give --rbac-db and/or --database (or a migration file)") }
        if !(1...50_000).contains(batchSize) { problems.append("batch_size must be 1–50000 (got \(batchSize))") }
        var names = Set<String>()
        for database in databases {
            if database.name.isEmpty || database.name.contains("/") { problems.append("database name '\(database.name)' must be non-empty without '/'") }
            if !names.insert(database.name).inserted { problems.append("two databases are named '\(database.name)'") }
            for column in database.columns where column.table.isEmpty || column.column.isEmpty || column.key.isEmpty {
                problems.append("database '\(database.name)': a column needs table, column and key")
            }
        }
        guard problems.isEmpty else { throw MigrationError(problems.joined(separator: "\n")) }
    }
}

/// A migration failure, with a message that names where (database, table, column, row key) and never a value.
public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "unreadable"
        }
    }
}
