import Foundation
import SQLKit
import WardenAccess
import WardenCore

/// One versioned change to the schema.
struct Migration: Sendable {
    let version: Int
    let name: String
    let apply: @Sendable (any SQLDatabase, SQLDialectKind) async throws -> Void
}

/// The schema's history and the machinery that applies it.
///
/// Migrations run at start (and by `warden db migrate`), in one transaction, recorded in
/// `warden_schema_migrations`. On PostgreSQL the transaction first takes an advisory lock, so nodes that
/// start together apply each migration once; SQLite's write transaction excludes other processes the
/// same way. A database whose schema is newer than this binary knows is refused.
public enum Migrations {
    /// Every migration, in order. Append only: never edit one that has shipped.
    static let all: [Migration] = [
        Migration(version: 1, name: "core schema") { database, _ in
            for statement in [
                """
                CREATE TABLE warden_keyring (
                    id BIGINT PRIMARY KEY,
                    generation BIGINT NOT NULL,
                    document TEXT NOT NULL)
                """,
                """
                CREATE TABLE warden_accounts (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL,
                    username_key TEXT NOT NULL UNIQUE,
                    email TEXT,
                    phone TEXT,
                    status TEXT NOT NULL,
                    password_hash TEXT,
                    failed_logins BIGINT NOT NULL DEFAULT 0,
                    locked_until BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE warden_roles (
                    name TEXT PRIMARY KEY,
                    summary TEXT NOT NULL,
                    parent TEXT)
                """,
                """
                CREATE TABLE warden_role_permissions (
                    role TEXT NOT NULL REFERENCES warden_roles(name) ON DELETE CASCADE,
                    permission TEXT NOT NULL,
                    PRIMARY KEY (role, permission))
                """,
                """
                CREATE TABLE warden_grants (
                    account_id TEXT NOT NULL REFERENCES warden_accounts(id) ON DELETE CASCADE,
                    role TEXT NOT NULL REFERENCES warden_roles(name),
                    granted_at BIGINT NOT NULL,
                    expires_at BIGINT,
                    granted_by TEXT NOT NULL,
                    PRIMARY KEY (account_id, role))
                """,
                """
                CREATE TABLE warden_audit (
                    seq BIGINT PRIMARY KEY,
                    at_ms BIGINT NOT NULL,
                    action TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    subject TEXT,
                    source_address TEXT,
                    request_id TEXT,
                    details TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    mac TEXT NOT NULL)
                """,
                "CREATE INDEX warden_audit_subject ON warden_audit (subject)",
                """
                CREATE TABLE warden_audit_head (
                    id BIGINT PRIMARY KEY,
                    seq BIGINT NOT NULL,
                    hash TEXT NOT NULL,
                    mac TEXT NOT NULL)
                """,
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
        Migration(version: 2, name: "default roles") { database, _ in
            // `parent` is not a foreign key (a role may be inserted before its parent).
            for role in RoleCatalog.defaults {
                try await database.raw("INSERT INTO warden_roles (name, summary, parent) VALUES (\(bind: role.name), \(bind: role.summary), \(bind: role.parent))").run()
                for permission in role.permissions.sorted() {
                    try await database.raw("INSERT INTO warden_role_permissions (role, permission) VALUES (\(bind: role.name), \(bind: permission.description))").run()
                }
            }
        },
        Migration(version: 3, name: "sessions, revocations and signing keys") { database, _ in
            for statement in [
                """
                CREATE TABLE warden_sessions (
                    id_hash TEXT PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    user_agent TEXT NOT NULL,
                    address TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_activity BIGINT NOT NULL,
                    idle_ms BIGINT NOT NULL,
                    absolute_expiry BIGINT NOT NULL,
                    level TEXT NOT NULL,
                    refresh_id TEXT NOT NULL)
                """,
                "CREATE INDEX warden_sessions_account ON warden_sessions (account_id)",
                "CREATE TABLE warden_revoked_tokens (id TEXT PRIMARY KEY, until_ms BIGINT NOT NULL)",
                "CREATE TABLE warden_revoked_sessions (id_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, until_ms BIGINT NOT NULL)",
                "CREATE TABLE warden_session_watermarks (account_id TEXT PRIMARY KEY, not_before BIGINT NOT NULL)",
                """
                CREATE TABLE warden_devices (
                    account_id TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    user_agent TEXT NOT NULL,
                    first_seen BIGINT NOT NULL,
                    last_seen BIGINT NOT NULL,
                    PRIMARY KEY (account_id, fingerprint))
                """,
                "CREATE TABLE warden_login_addresses (account_id TEXT NOT NULL, address TEXT NOT NULL, seen BIGINT NOT NULL, PRIMARY KEY (account_id, address))",
                "CREATE TABLE warden_login_failures (account_id TEXT NOT NULL, at_ms BIGINT NOT NULL)",
                "CREATE INDEX warden_login_failures_account ON warden_login_failures (account_id, at_ms)",
                """
                CREATE TABLE warden_signing_keys (
                    kid TEXT PRIMARY KEY,
                    created_at BIGINT NOT NULL,
                    retired_at BIGINT,
                    sealed_key TEXT NOT NULL)
                """,
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
        Migration(version: 4, name: "multi-factor state and rate limits") { database, _ in
            for statement in [
                "CREATE TABLE warden_mfa (account_id TEXT PRIMARY KEY, document TEXT NOT NULL, updated_at BIGINT NOT NULL)",
                "CREATE TABLE warden_rate_limits (key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, window_end BIGINT NOT NULL, count BIGINT NOT NULL)",
                "CREATE INDEX warden_rate_limits_end ON warden_rate_limits (window_end)",
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
        Migration(version: 5, name: "revocation times for a bounded revocation ledger") { database, _ in
            for statement in [
                // When each session was revoked (older rows have none and are never folded; they expire).
                "ALTER TABLE warden_revoked_sessions ADD COLUMN revoked_at BIGINT",
                "CREATE INDEX warden_revoked_sessions_account ON warden_revoked_sessions (account_id, revoked_at)",
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
        Migration(version: 6, name: "durable refresh rotations") { database, _ in
            for statement in [
                """
                CREATE TABLE warden_refresh_rotations (
                    id_hash TEXT PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    refresh_id TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    until_ms BIGINT NOT NULL)
                """,
                "CREATE INDEX warden_refresh_rotations_until ON warden_refresh_rotations (until_ms)",
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
        Migration(version: 7, name: "key-version accounting of migrated columns") { database, _ in
            try await database.raw(
                SQLQueryString(
                    """
                    CREATE TABLE warden_key_usage (
                        location TEXT NOT NULL,
                        key_version TEXT NOT NULL,
                        value_count BIGINT NOT NULL,
                        counted_at BIGINT NOT NULL,
                        PRIMARY KEY (location, key_version))
                    """)
            ).run()
        },
        Migration(version: 8, name: "two-phase key rollouts: signing keys that do not sign yet, and the nodes' acknowledgements") { database, _ in
            for statement in [
                // When a signing key began to sign; NULL while it is published only. Existing keys signed
                // from their creation.
                "ALTER TABLE warden_signing_keys ADD COLUMN signs_from BIGINT",
                "UPDATE warden_signing_keys SET signs_from = created_at",
                """
                CREATE TABLE warden_nodes (
                    node_id TEXT PRIMARY KEY,
                    field_key_version BIGINT NOT NULL,
                    signing_kids TEXT NOT NULL,
                    seen_at BIGINT NOT NULL)
                """,
            ] {
                try await database.raw(SQLQueryString(statement)).run()
            }
        },
    ]

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// The schema's state.
    public struct Status: Sendable, Equatable {
        /// Versions applied, ascending.
        public let applied: [Int]
        /// The newest version this binary knows.
        public let latest: Int
        /// Migrations this binary would apply, as (version, name).
        public var pending: [(Int, String)] {
            all.filter { !applied.contains($0.version) }.map { ($0.version, $0.name) }
        }

        public static func == (lhs: Status, rhs: Status) -> Bool { lhs.applied == rhs.applied && lhs.latest == rhs.latest }
    }

    /// Applies every pending migration; returns the versions applied now.
    ///
    /// - Throws: ``SQLStoreError/Code/schemaTooNew`` when the database has a version this binary does
    ///   not know.
    @discardableResult
    public static func migrate(_ backend: any SQLBackend) async throws -> [Int] {
        try await backend.transaction { database in
            try await WriterLock.migrations.acquire(on: database, kind: backend.kind)
            try await createHistoryTable(database)
            let applied = try await appliedVersions(database)
            try refuseNewer(applied)
            var appliedNow: [Int] = []
            for migration in all where !applied.contains(migration.version) {
                try await migration.apply(database, backend.kind)
                let now = StoredInstant(truncating: Date()).milliseconds
                try await database.raw(
                    """
                    INSERT INTO warden_schema_migrations (version, name, applied_at) \
                    VALUES (\(bind: Int64(migration.version)), \(bind: migration.name), \(bind: now))
                    """
                ).run()
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }

    /// The schema's state, without changing anything.
    public static func status(_ backend: any SQLBackend) async throws -> Status {
        try await backend.withConnection { database in
            let exists = try await historyTableExists(database, kind: backend.kind)
            return Status(applied: exists ? try await appliedVersions(database) : [], latest: latestVersion)
        }
    }

    /// Refuses a database with a schema newer than this binary.
    public static func checkCurrent(_ backend: any SQLBackend) async throws {
        let status = try await status(backend)
        try refuseNewer(status.applied)
        guard status.applied.last == latestVersion else {
            throw SQLStoreError(.unavailable, "the database schema is at version \(status.applied.last ?? 0); run `warden db migrate`")
        }
    }

    private static func refuseNewer(_ applied: [Int]) throws {
        if let newest = applied.max(), newest > latestVersion {
            throw SQLStoreError(
                .schemaTooNew,
                "the database schema is at version \(newest), newer than this Warden knows (\(latestVersion)); upgrade Warden before using this database")
        }
    }

    private static func createHistoryTable(_ database: any SQLDatabase) async throws {
        try await database.raw(
            """
            CREATE TABLE IF NOT EXISTS warden_schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL)
            """
        ).run()
    }

    private static func appliedVersions(_ database: any SQLDatabase) async throws -> [Int] {
        try await database.raw("SELECT version FROM warden_schema_migrations ORDER BY version").all()
            .map { Int(try $0.decode(column: "version", as: Int64.self)) }
    }

    private static func historyTableExists(_ database: any SQLDatabase, kind: SQLDialectKind) async throws -> Bool {
        let query: SQLQueryString =
            switch kind {
            case .sqlite: "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'warden_schema_migrations'"
            case .postgres: "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'warden_schema_migrations'"
            }
        return try await database.raw(query).first()?.decode(column: "n", as: Int64.self) ?? 0 > 0
    }
}
