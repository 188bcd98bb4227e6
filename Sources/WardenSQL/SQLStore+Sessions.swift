public import Foundation
import SQLKit
import WardenCore
public import WardenSessions

/// Sessions in SQL (the embedded default): every check and change is one transaction; the per-account
/// limit is enforced under a lock on the account's sessions.
extension SQLStore: SessionStore {
    public func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String] {
        try await inTransaction(.sessions) { [self] database in
            let account = Self.key(session.accountID)
            try await WriterLock.sessions(of: account, on: database, kind: backend.kind)
            try await Self.pruneSessions(account: account, now: now, on: database)
            let live = try await database.raw("SELECT id_hash FROM warden_sessions WHERE account_id = \(bind: account) ORDER BY last_activity, id_hash").all()
                .map { try $0.string("id_hash") }
            var evicted: [String] = []
            if live.count >= limit {
                guard whenFull == .evictOldest else { throw SessionError(.limitReached, "the account has the maximum number of sessions") }
                evicted = Array(live.prefix(live.count - limit + 1))
                for hash in evicted { try await database.raw("DELETE FROM warden_sessions WHERE id_hash = \(bind: hash)").run() }
            }
            // A session created after a logout-all is never covered by its watermark, whatever the clock of
            // the node that wrote it (one running ahead would otherwise end sessions created after it).
            let watermark = try await Self.watermark(account, on: database)?.milliseconds ?? Int64.min
            let created = max(session.created.milliseconds, watermark == Int64.min ? watermark : watermark + 1)
            try await database.raw(
                """
                INSERT INTO warden_sessions (id_hash, account_id, user_agent, address, fingerprint, created_at, last_activity, idle_ms, absolute_expiry, level, refresh_id) \
                VALUES (\(bind: session.idHash), \(bind: account), \(bind: session.device.userAgent), \(bind: session.device.address), \
                \(bind: session.device.fingerprint), \(bind: created), \(bind: session.lastActivity.milliseconds), \
                \(bind: Int64(session.idleTimeout * 1000)), \(bind: session.absoluteExpiry.milliseconds), \(bind: session.level.rawValue), \(bind: session.refreshTokenID))
                """
            ).run()
            return evicted
        }
    }

    public func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord? {
        try await inTransaction(.sessions) { [self] database in
            guard var session = try await usableSession(sessionHash, accountID: accountID, now: now, on: database),
                try await database.raw("SELECT id FROM warden_revoked_tokens WHERE id = \(bind: tokenID) AND until_ms > \(bind: now.milliseconds)").first() == nil
            else { return nil }
            session.lastActivity = now
            try await database.raw("UPDATE warden_sessions SET last_activity = \(bind: now.milliseconds) WHERE id_hash = \(bind: sessionHash)").run()
            return session
        }
    }

    public func session(hash: String, accountID: UUID) async throws -> SessionRecord? {
        try await onConnection(.sessions) { database in
            try await database.raw("SELECT * FROM warden_sessions WHERE id_hash = \(bind: hash)").first().map(Self.session)
        }.flatMap { $0.accountID == accountID ? $0 : nil }
    }

    public func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord] {
        try await onConnection(.sessions) { database in
            let watermark = try await Self.watermark(Self.key(accountID), on: database)
            return try await database.raw("SELECT * FROM warden_sessions WHERE account_id = \(bind: Self.key(accountID)) ORDER BY last_activity DESC")
                .all().map(Self.session).filter { session in session.isActive(at: now) && watermark.map { session.created > $0 } ?? true }
        }
    }

    public func revoke(sessionHash: String, accountID: UUID) async throws -> Bool {
        try await inTransaction(.sessions) { database in
            !(try await database.raw("DELETE FROM warden_sessions WHERE id_hash = \(bind: sessionHash) AND account_id = \(bind: Self.key(accountID)) RETURNING id_hash").all()).isEmpty
        }
    }

    public func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String] {
        try await inTransaction(.sessions) { [self] database in
            let account = Self.key(accountID)
            try await WriterLock.sessions(of: account, on: database, kind: backend.kind)
            if let watermark { try await Self.raiseWatermark(account, to: watermark, on: database) }
            return try await database.raw(
                """
                DELETE FROM warden_sessions WHERE account_id = \(bind: account) AND id_hash <> \(bind: except ?? "") RETURNING id_hash
                """
            ).all().map { try $0.string("id_hash") }
        }
    }

    public func applyWatermark(accountID: UUID, at: Date) async throws {
        try await inTransaction(.sessions) { [self] database in
            let account = Self.key(accountID)
            try await WriterLock.sessions(of: account, on: database, kind: backend.kind)
            try await Self.raiseWatermark(account, to: at, on: database)
            try await database.raw("DELETE FROM warden_sessions WHERE account_id = \(bind: account) AND created_at <= \(bind: at.milliseconds)").run()
        }
    }

    public func revokeToken(id: String, accountID: UUID, until: Date) async throws {
        try await revokeToken(id: id, until: until)
    }

    func revokeToken(id: String, until: Date) async throws {
        try await inTransaction(.sessions) { database in
            try await database.raw("DELETE FROM warden_revoked_tokens WHERE id = \(bind: id)").run()
            try await database.raw("INSERT INTO warden_revoked_tokens (id, until_ms) VALUES (\(bind: id), \(bind: until.milliseconds))").run()
        }
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation {
        try await inTransaction(.sessions) { [self] database in
            guard var session = try await usableSession(sessionHash, accountID: accountID, now: now, on: database) else { return .invalid }
            guard session.refreshTokenID == presented else {
                try await database.raw("DELETE FROM warden_sessions WHERE id_hash = \(bind: sessionHash)").run()
                return .reused(accountID: accountID)
            }
            session.refreshTokenID = next
            session.lastActivity = now
            try await database.raw(
                """
                UPDATE warden_sessions SET refresh_id = \(bind: next), last_activity = \(bind: now.milliseconds) WHERE id_hash = \(bind: sessionHash)
                """
            ).run()
            return .rotated(session)
        }
    }

    /// The session, locked for this transaction, if it is live; an expired or watermarked one is deleted.
    private func usableSession(_ hash: String, accountID: UUID, now: Date, on database: any SQLDatabase) async throws -> SessionRecord? {
        guard let row = try await database.raw("SELECT * FROM warden_sessions WHERE id_hash = \(bind: hash)\(unsafeRaw: backend.kind.forUpdate)").first() else {
            return nil
        }
        let session = try Self.session(row)
        guard session.accountID == accountID else { return nil }
        let watermark = try await Self.watermark(Self.key(accountID), on: database)
        guard session.isActive(at: now), watermark.map({ session.created > $0 }) ?? true else {
            try await database.raw("DELETE FROM warden_sessions WHERE id_hash = \(bind: hash)").run()
            return nil
        }
        return session
    }

    static func watermark(_ account: String, on database: any SQLDatabase) async throws -> Date? {
        try await database.raw("SELECT not_before FROM warden_session_watermarks WHERE account_id = \(bind: account)").first()?.date("not_before")
    }

    static func raiseWatermark(_ account: String, to date: Date, on database: any SQLDatabase) async throws {
        let current = try await watermark(account, on: database)
        guard current.map({ $0 < date }) ?? true else { return }
        try await database.raw("DELETE FROM warden_session_watermarks WHERE account_id = \(bind: account)").run()
        try await database.raw("INSERT INTO warden_session_watermarks (account_id, not_before) VALUES (\(bind: account), \(bind: date.milliseconds))").run()
    }

    private static func pruneSessions(account: String, now: Date, on database: any SQLDatabase) async throws {
        try await database.raw(
            """
            DELETE FROM warden_sessions WHERE account_id = \(bind: account) AND \
            (absolute_expiry <= \(bind: now.milliseconds) OR last_activity + idle_ms <= \(bind: now.milliseconds))
            """
        ).run()
    }

    static func session(_ row: any SQLRow) throws -> SessionRecord {
        guard let accountID = UUID(text: try row.string("account_id")),
            let level = AuthenticationLevel(rawValue: try row.string("level"))
        else { throw SQLStoreError(.corrupt, "a session row cannot be read") }
        return SessionRecord(
            idHash: try row.string("id_hash"), accountID: accountID,
            device: Device(userAgent: try row.string("user_agent"), address: try row.string("address"), fingerprint: try row.string("fingerprint")),
            created: try row.date("created_at"), lastActivity: try row.date("last_activity"),
            idleTimeout: TimeInterval(try row.int("idle_ms")) / 1000, absoluteExpiry: try row.date("absolute_expiry"),
            level: level, refreshTokenID: try row.string("refresh_id"))
    }
}

extension SQLStore: ActivityStore {
    public func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) async throws -> LoginActivity {
        try await inTransaction(.sessions) { [self] database in
            let account = Self.key(accountID)
            try await WriterLock.sessions(of: account, on: database, kind: backend.kind)
            let known = try await database.raw("SELECT fingerprint, first_seen FROM warden_devices WHERE account_id = \(bind: account)").all()
            let previous = try known.first { try $0.string("fingerprint") == device.fingerprint }
            let firstSeen = try previous?.int("first_seen") ?? now.milliseconds
            try await database.raw("DELETE FROM warden_devices WHERE account_id = \(bind: account) AND fingerprint = \(bind: device.fingerprint)").run()
            try await database.raw(
                """
                INSERT INTO warden_devices (account_id, fingerprint, user_agent, first_seen, last_seen) \
                VALUES (\(bind: account), \(bind: device.fingerprint), \(bind: device.userAgent), \(bind: firstSeen), \(bind: now.milliseconds))
                """
            ).run()
            try await database.raw(
                "DELETE FROM warden_login_addresses WHERE account_id = \(bind: account) AND (address = \(bind: device.address) OR seen <= \(bind: now.addingTimeInterval(-window).milliseconds))"
            ).run()
            try await database.raw("INSERT INTO warden_login_addresses (account_id, address, seen) VALUES (\(bind: account), \(bind: device.address), \(bind: now.milliseconds))").run()
            let addresses = try await database.raw("SELECT COUNT(*) AS n FROM warden_login_addresses WHERE account_id = \(bind: account)").first()?.int("n") ?? 1
            return LoginActivity(isNewDevice: !known.isEmpty && previous == nil, distinctAddresses: Int(addresses))
        }
    }

    public func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) async throws -> Int {
        try await inTransaction(.sessions) { database in
            let account = Self.key(accountID)
            try await database.raw("DELETE FROM warden_login_failures WHERE account_id = \(bind: account) AND at_ms <= \(bind: now.addingTimeInterval(-window).milliseconds)").run()
            try await database.raw("INSERT INTO warden_login_failures (account_id, at_ms) VALUES (\(bind: account), \(bind: now.milliseconds))").run()
            return Int(try await database.raw("SELECT COUNT(*) AS n FROM warden_login_failures WHERE account_id = \(bind: account)").first()?.int("n") ?? 1)
        }
    }

    public func devices(accountID: UUID) async throws -> [DeviceSighting] {
        try await onConnection(.sessions) { database in
            try await database.raw("SELECT * FROM warden_devices WHERE account_id = \(bind: Self.key(accountID)) ORDER BY last_seen DESC").all().map { row in
                DeviceSighting(
                    fingerprint: try row.string("fingerprint"), userAgent: try row.string("user_agent"),
                    firstSeen: try row.date("first_seen"), lastSeen: try row.date("last_seen"))
            }
        }
    }
}

/// Durable revocation records, kept in SQL beside Redis sessions.
extension SQLStore: RevocationLedger {
    public func recordRevokedSessions(_ hashes: [String], accountID: UUID, at: Date, until: Date, limit: Int) async throws {
        guard !hashes.isEmpty else { return }
        try await inTransaction(.sessions) { [self] database in
            let account = Self.key(accountID)
            try await WriterLock.sessions(of: account, on: database, kind: backend.kind)
            for hash in hashes {
                // Insert if absent; an existing row is extended only if it is this account's: never re-owned.
                try await database.raw(
                    """
                    INSERT INTO warden_revoked_sessions (id_hash, account_id, until_ms, revoked_at) \
                    VALUES (\(bind: hash), \(bind: account), \(bind: until.milliseconds), \(bind: at.milliseconds)) ON CONFLICT (id_hash) DO NOTHING
                    """
                ).run()
                try await database.raw(
                    """
                    UPDATE warden_revoked_sessions SET until_ms = \(bind: until.milliseconds) \
                    WHERE id_hash = \(bind: hash) AND account_id = \(bind: account) AND until_ms < \(bind: until.milliseconds)
                    """
                ).run()
            }
            try await Self.foldRevokedSessions(account, keepingAtMost: limit, now: at, on: database)
        }
    }

    /// Past `limit` live rows for the account (counting rows written since schema version 5, which carry
    /// their revocation time), deletes the oldest and raises the account's watermark to the newest
    /// deleted revocation time: every folded session was created before it, so it stays revoked.
    private static func foldRevokedSessions(_ account: String, keepingAtMost limit: Int, now: Date, on database: any SQLDatabase) async throws {
        let count =
            try await database.raw(
                """
                SELECT COUNT(*) AS n FROM warden_revoked_sessions WHERE account_id = \(bind: account) AND revoked_at IS NOT NULL AND until_ms > \(bind: now.milliseconds)
                """
            ).first()?.int("n") ?? 0
        guard count > Int64(limit) else { return }
        let rows = try await database.raw(
            """
            SELECT id_hash, revoked_at FROM warden_revoked_sessions \
            WHERE account_id = \(bind: account) AND revoked_at IS NOT NULL AND until_ms > \(bind: now.milliseconds) ORDER BY revoked_at DESC, id_hash DESC
            """
        ).all().dropFirst(max(0, limit))
        var newest: Date?
        for row in rows {
            let revoked = try row.date("revoked_at")
            newest = max(newest ?? revoked, revoked)
            try await database.raw("DELETE FROM warden_revoked_sessions WHERE id_hash = \(bind: try row.string("id_hash"))").run()
        }
        if let newest { try await raiseWatermark(account, to: newest, on: database) }
    }

    public func recordWatermark(accountID: UUID, at: Date) async throws {
        try await inTransaction(.sessions) { database in try await Self.raiseWatermark(Self.key(accountID), to: at, on: database) }
    }

    public func recordRevokedToken(id: String, until: Date) async throws {
        try await revokeToken(id: id, until: until)
    }

    public func recordRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, generation: Int64, until: Date) async throws -> Bool {
        try await inTransaction(.sessions) { database in
            let account = Self.key(accountID)
            // Compare and swap on the one row per session: concurrent rotations of one token move it once.
            let moved = try await database.raw(
                """
                UPDATE warden_refresh_rotations SET refresh_id = \(bind: next), generation = \(bind: generation), until_ms = \(bind: until.milliseconds) \
                WHERE id_hash = \(bind: sessionHash) AND account_id = \(bind: account) AND refresh_id = \(bind: presented) RETURNING id_hash
                """
            ).all()
            if !moved.isEmpty { return true }
            // The session's first recorded rotation. (Rows outlive their sessions by at most one lifetime.)
            let created = try await database.raw(
                """
                INSERT INTO warden_refresh_rotations (id_hash, account_id, refresh_id, generation, until_ms) \
                VALUES (\(bind: sessionHash), \(bind: account), \(bind: next), \(bind: generation), \(bind: until.milliseconds)) \
                ON CONFLICT (id_hash) DO NOTHING RETURNING id_hash
                """
            ).all()
            guard !created.isEmpty else { return false }
            try await database.raw("DELETE FROM warden_refresh_rotations WHERE until_ms <= \(bind: Date().milliseconds)").run()
            return true
        }
    }

    public func adoptRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, storeGeneration: Int64, until: Date) async throws -> Int64? {
        try await inTransaction(.sessions) { database in
            try await database.raw(
                """
                UPDATE warden_refresh_rotations SET refresh_id = \(bind: next), generation = generation + 1, until_ms = \(bind: until.milliseconds) \
                WHERE id_hash = \(bind: sessionHash) AND account_id = \(bind: Self.key(accountID)) AND refresh_id = \(bind: presented) \
                AND generation > \(bind: storeGeneration) RETURNING generation
                """
            ).first()?.int("generation")
        }
    }

    public func activeRevocations(now: Date) async throws -> Revocations {
        try await onConnection(.sessions) { database in
            var sessions: [(hash: String, accountID: UUID)] = []
            for row in try await database.raw("SELECT id_hash, account_id FROM warden_revoked_sessions WHERE until_ms > \(bind: now.milliseconds) ORDER BY id_hash").all() {
                if let accountID = UUID(text: try row.string("account_id")) { sessions.append((try row.string("id_hash"), accountID)) }
            }
            var watermarks: [(accountID: UUID, at: Date)] = []
            for row in try await database.raw("SELECT account_id, not_before FROM warden_session_watermarks ORDER BY account_id").all() {
                if let accountID = UUID(text: try row.string("account_id")) { watermarks.append((accountID, try row.date("not_before"))) }
            }
            let tokens = try await database.raw("SELECT id, until_ms FROM warden_revoked_tokens WHERE until_ms > \(bind: now.milliseconds) ORDER BY id").all()
                .map { (id: try $0.string("id"), until: try $0.date("until_ms")) }
            return Revocations(sessions: sessions, watermarks: watermarks, tokens: tokens)
        }
    }
}

/// Token signing keys, sealed.
extension SQLStore: SigningKeyStore {
    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await onConnection(.sessions) { database in
            try await database.raw("SELECT * FROM warden_signing_keys ORDER BY created_at").all().map { row in
                SigningKeyRecord(
                    kid: try row.string("kid"), created: try row.date("created_at"), retired: try row.optionalDate("retired_at"),
                    sealedPrivateKey: try row.string("sealed_key"), signsFrom: try row.optionalDate("signs_from"))
            }
        }
    }

    public func addSigningKey(_ key: SigningKeyRecord, ifNoneSince: Date) async throws -> Bool {
        try await inTransaction(.sessions) { [self] database in
            try await WriterLock.signingKeys.acquire(on: database, kind: backend.kind)
            let newer = try await database.raw("SELECT kid FROM warden_signing_keys WHERE created_at >= \(bind: ifNoneSince == .distantPast ? Int64.min : ifNoneSince.milliseconds)").first()
            guard newer == nil else { return false }
            try await database.raw("UPDATE warden_signing_keys SET retired_at = \(bind: key.created.milliseconds) WHERE retired_at IS NULL").run()
            try await database.raw(
                """
                INSERT INTO warden_signing_keys (kid, created_at, retired_at, sealed_key, signs_from)
                VALUES (\(bind: key.kid), \(bind: key.created.milliseconds), NULL, \(bind: key.sealedPrivateKey), \(bind: key.created.milliseconds))
                """
            ).run()
            try await appendAudit([AuditEvent(time: key.created, action: "token_key.rotated", outcome: .success, actor: keyringActor, subject: "signing-key:\(key.kid)")], on: database)
            try await notifyKeyChange(on: database)
            return true
        }
    }

    public func publishSigningKey(_ key: SigningKeyRecord) async throws -> Bool {
        try await inTransaction(.sessions) { [self] database in
            try await WriterLock.signingKeys.acquire(on: database, kind: backend.kind)
            let waiting = try await database.raw("SELECT kid FROM warden_signing_keys WHERE signs_from IS NULL AND retired_at IS NULL").first()
            guard waiting == nil else { return false }
            try await database.raw(
                """
                INSERT INTO warden_signing_keys (kid, created_at, retired_at, sealed_key, signs_from)
                VALUES (\(bind: key.kid), \(bind: key.created.milliseconds), NULL, \(bind: key.sealedPrivateKey), NULL)
                """
            ).run()
            try await appendAudit(
                [AuditEvent(time: key.created, action: "token_key.published", outcome: .success, actor: keyringActor, subject: "signing-key:\(key.kid)")],
                on: database)
            try await notifyKeyChange(on: database)
            return true
        }
    }

    public func promoteSigningKey(kid: String, at date: Date) async throws -> Bool {
        try await inTransaction(.sessions) { [self] database in
            try await WriterLock.signingKeys.acquire(on: database, kind: backend.kind)
            let waiting = try await database.raw("SELECT kid FROM warden_signing_keys WHERE kid = \(bind: kid) AND signs_from IS NULL AND retired_at IS NULL").first()
            guard waiting != nil else { return false }
            try await database.raw("UPDATE warden_signing_keys SET retired_at = \(bind: date.milliseconds) WHERE retired_at IS NULL AND signs_from IS NOT NULL").run()
            try await database.raw("UPDATE warden_signing_keys SET signs_from = \(bind: date.milliseconds) WHERE kid = \(bind: kid)").run()
            try await appendAudit([AuditEvent(time: date, action: "token_key.rotated", outcome: .success, actor: keyringActor, subject: "signing-key:\(kid)")], on: database)
            try await notifyKeyChange(on: database)
            return true
        }
    }

    public func deleteSigningKeys(retiredBefore date: Date) async throws -> Int {
        try await inTransaction(.sessions) { database in
            try await database.raw("DELETE FROM warden_signing_keys WHERE retired_at IS NOT NULL AND retired_at < \(bind: date.milliseconds) RETURNING kid").all().count
        }
    }
}
