public import Foundation
import SQLKit
public import WardenCore
public import WardenCrypto

/// The keyring document in one row; changes take a row lock and record keyring events in the audit log
/// in the same transaction.
extension SQLStore: KeyringStore {
    public func load() async throws -> KeyringDocument? {
        try await onConnection(.keyring) { database in
            try await Self.readKeyring(database, lock: "")
        }
    }

    public func update<Result: Sendable>(
        _ transform: @escaping @Sendable (inout KeyringDocument?) throws -> Result
    ) async throws -> (document: KeyringDocument?, result: Result) {
        try await inTransaction(.keyring) { [self] database in
            try await WriterLock.keyring.acquire(on: database, kind: backend.kind)
            let original = try await Self.readKeyring(database, lock: backend.kind.forUpdate)
            var document = original
            let result = try transform(&document)
            guard let document, document != original else { return (original, result) }
            let json = String(decoding: document.json(), as: UTF8.self)
            if original == nil {
                try await database.raw("INSERT INTO warden_keyring (id, generation, document) VALUES (1, \(bind: Int64(document.generation)), \(bind: json))").run()
            } else {
                try await database.raw("UPDATE warden_keyring SET generation = \(bind: Int64(document.generation)), document = \(bind: json) WHERE id = 1").run()
            }
            let now = Date()
            let events = KeyringChange.between(original, document).map { change in
                AuditEvent(
                    time: now, action: change.action, outcome: .success, actor: KeyringAttribution.actor ?? keyringActor,
                    subject: "keyring", details: change.details)
            }
            try await appendAudit(events, on: database)
            try await notifyKeyChange(on: database)
            return (document, result)
        }
    }

    /// Whether the SQLite database at `path` exists and holds a keyring (checked before a master key is
    /// generated, so a new key is never paired with an existing keyring).
    public static func sqliteHasKeyring(path: String) async throws -> Bool {
        guard SecureFile.exists(path) else { return false }
        let backend = try await SQLiteBackend.open(path: path)
        let count = try await backend.withConnection { database -> Int64 in
            let table =
                try await database.raw("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'warden_keyring'").first()?
                .decode(column: "n", as: Int64.self) ?? 0
            guard table > 0 else { return 0 }
            return try await database.raw("SELECT COUNT(*) AS n FROM warden_keyring").first()?.decode(column: "n", as: Int64.self) ?? 0
        }
        try await backend.close()
        return count > 0
    }

    /// The keyring's generation alone: a cheap poll for changes made by other nodes.
    public func keyringGeneration() async throws -> UInt64? {
        try await onConnection(.keyring) { database in
            try await database.raw("SELECT generation FROM warden_keyring WHERE id = 1").first().map { UInt64(try $0.int("generation")) }
        }
    }

    private static func readKeyring(_ database: any SQLDatabase, lock: String) async throws -> KeyringDocument? {
        guard let row = try await database.raw("SELECT document FROM warden_keyring WHERE id = 1\(unsafeRaw: lock)").first() else {
            return nil
        }
        return try KeyringDocument(json: Data(try row.string("document").utf8))
    }
}

/// Key changes announced to every node: on PostgreSQL a `NOTIFY warden_keys` in the changing transaction
/// (delivered at commit, never for a rolled-back change), which nodes `LISTEN` for; periodic reloads
/// remain the fallback (and the only way on SQLite, which serves one machine).
extension SQLStore {
    /// The notification channel.
    public static let keyChannel = "warden_keys"

    func notifyKeyChange(on database: any SQLDatabase) async throws {
        guard backend.kind == .postgres else { return }
        try await database.raw("NOTIFY warden_keys").run()
    }

    /// Calls `onChange` for every key change committed by any node, until cancelled; reconnects after
    /// a lost connection (calling `onChange` then too, for changes missed meanwhile). Returns at once on
    /// SQLite.
    public func listenForKeyChanges(onChange: @escaping @Sendable () async -> Void) async throws {
        guard let postgres = backend as? PostgresBackend else { return }
        try await postgres.listen(channel: Self.keyChannel, onNotification: onChange)
    }
}

/// The nodes' acknowledgements of the keys they hold, one row per node, dated by the database server's
/// clock on PostgreSQL (shared by every node, so no node's clock decides who is live) and by this
/// process's on SQLite (one machine).
extension SQLStore: NodeRegistry {
    /// Now in milliseconds since 1970, as an SQL expression: the server's clock on PostgreSQL, else a
    /// bound value of this process's clock.
    private func registryNow() -> SQLQueryString {
        backend.kind == .postgres ? "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint" : "\(bind: Date().milliseconds)"
    }

    public func report(node: String, fieldKeyVersion: UInt32, signingKeys: [String]) async throws {
        let now = registryNow()
        try await onConnection(.keyring) { database in
            try await database.raw(
                """
                INSERT INTO warden_nodes (node_id, field_key_version, signing_kids, seen_at)
                VALUES (\(bind: node), \(bind: Int64(fieldKeyVersion)), \(bind: signingKeys.joined(separator: ",")), \(now))
                ON CONFLICT (node_id) DO UPDATE SET field_key_version = excluded.field_key_version,
                    signing_kids = excluded.signing_kids, seen_at = excluded.seen_at
                """
            ).run()
        }
    }

    public func nodes(seenWithin interval: TimeInterval) async throws -> [NodeKeyReport] {
        let now = registryNow()
        let window = Int64((interval * 1000).rounded())
        return try await onConnection(.keyring) { database in
            try await database.raw("SELECT * FROM warden_nodes WHERE seen_at >= \(now) - \(bind: window) ORDER BY node_id").all().map { row in
                NodeKeyReport(
                    node: try row.string("node_id"), fieldKeyVersion: UInt32(clamping: try row.int("field_key_version")),
                    signingKeys: try row.string("signing_kids").split(separator: ",").map(String.init), seen: try row.date("seen_at"))
            }
        }
    }

    public func forget(node: String, staleAfter: TimeInterval) async throws {
        let now = registryNow()
        let window = Int64((staleAfter * 1000).rounded())
        try await onConnection(.keyring) { database in
            try await database.raw("DELETE FROM warden_nodes WHERE node_id = \(bind: node) OR seen_at < \(now) - \(bind: window)").run()
        }
    }
}
