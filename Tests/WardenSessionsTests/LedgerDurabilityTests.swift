import Foundation
import NIOCore
import SQLKit
import Testing
import WardenAudit
import WardenCore
import WardenRedis
import WardenSQL
import WardenSessions

/// The durable ledger against the fast store losing or rolling back data: who may write it, what a replay
/// may end, and refresh rotations surviving a Redis snapshot restore.
@Suite(.serialized)
struct LedgerDurabilityTests {
    typealias Fixture = SessionServiceTests.Fixture
    static let context = SessionServiceTests.context
    static let device = SessionServiceTests.device

    /// Puts `records` back into the store as a restored snapshot would hold them: on Redis, the account's
    /// watermark rolls back too (the snapshot predates it).
    /// Puts `records` back as a store restored from a backup taken before their revocation would hold
    /// them: the sessions, and no watermark written since.
    static func restore(_ records: [SessionRecord], into fixture: Fixture) async throws {
        for record in records {
            if let client = fixture.backend.redisClient {
                try await client.send("DEL", RedisArgument("t:{\(record.accountID.lowercasedText)}:wm"))
            }
            if let sql = fixture.backend.sql {
                // The rows as a restored table holds them (a new session's `create` would date it after
                // the watermark, which a restore of the same database also brings back).
                let (r, account) = (record, record.accountID.lowercasedText)
                try await sql.backend.withConnection { database in
                    try await database.raw(
                        """
                        INSERT INTO warden_sessions (id_hash, account_id, user_agent, address, fingerprint, created_at, last_activity, idle_ms, absolute_expiry, level, refresh_id) \
                        VALUES (\(bind: r.idHash), \(bind: account), \(bind: r.device.userAgent), \(bind: r.device.address), \(bind: r.device.fingerprint), \
                        \(bind: StoredInstant(r.created).milliseconds), \(bind: StoredInstant(r.lastActivity).milliseconds), \(bind: Int64(r.idleTimeout * 1000)), \(bind: StoredInstant(r.absoluteExpiry).milliseconds), \
                        \(bind: r.level.rawValue), \(bind: r.refreshTokenID))
                        """
                    ).run()
                }
                continue
            }
            if let memory = fixture.backend.store as? MemorySessionStore { await memory.dropWatermark(accountID: record.accountID) }
            _ = try await fixture.backend.store.create(record, limit: 100, whenFull: .evictOldest, now: wholeMilliseconds())
        }
    }

    /// Threat: another account's `revoke` of a session hash rewrote the ledger row's owner, so the next
    /// replay could no longer revoke the real owner's session.
    @Test(arguments: SessionBackend.allCases)
    func anotherAccountsRevokeNeitherRewritesTheLedgerNorRevivesASession(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind, durableLedger: true)
        let alice = UUID()
        let mallory = UUID()
        let revoked = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let live = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let revokedHash = SessionID.hash(revoked.sessionID)
        let liveHash = SessionID.hash(live.sessionID)
        let backup = try #require(try await fixture.backend.store.session(hash: revokedHash, accountID: alice))
        try await fixture.service.revoke(sessionHash: revokedHash, accountID: alice, context: Self.context)

        // Mallory "deletes" both of Alice's sessions by their hashes: not found, and nothing is written.
        for hash in [revokedHash, liveHash] {
            let error = try await #require(throws: SessionError.self) {
                try await fixture.service.revoke(sessionHash: hash, accountID: mallory, context: Self.context)
            }
            #expect(error.code == .notFound)
        }
        var rows = try await fixture.ledger.activeRevocations(now: Date()).sessions
        #expect(rows.filter { $0.hash == revokedHash }.map(\.accountID) == [alice])
        #expect(!rows.contains { $0.accountID == mallory })

        // A snapshot restore brings the revoked session back; the replay ends it again; Alice's live one stays.
        try await Self.restore([backup], into: fixture)
        try await fixture.service.replayRevocations()
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: revoked.accessToken) }
        _ = try await fixture.service.authenticate(accessToken: live.accessToken)
        rows = try await fixture.ledger.activeRevocations(now: Date()).sessions
        #expect(rows.filter { $0.hash == revokedHash }.map(\.accountID) == [alice])
        await fixture.cleanup()
    }

    /// Threat: a replay revoked every session of an account with a watermark, so each node start or Redis
    /// restart logged out everyone who had signed in again after a logout-all.
    @Test(arguments: SessionBackend.allCases)
    func aReplayEndsOnlySessionsCreatedUpToTheWatermark(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind, durableLedger: true)
        let alice = UUID()
        let before = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let backup = try #require(try await fixture.backend.store.session(hash: SessionID.hash(before.sessionID), accountID: alice))
        try await fixture.service.revokeAll(accountID: alice, reason: "logout_all", context: Self.context)
        try await Task.sleep(for: .milliseconds(2))
        let after = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)

        try await Self.restore([backup], into: fixture)
        try await fixture.service.replayRevocations()
        _ = try await fixture.service.authenticate(accessToken: after.accessToken)
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: before.accessToken) }
        #expect(try await fixture.service.sessions(accountID: alice).map(\.idHash) == [SessionID.hash(after.sessionID)])
        // A second replay (the next node to start) changes nothing.
        try await fixture.service.replayRevocations()
        _ = try await fixture.service.authenticate(accessToken: after.accessToken)
        await fixture.cleanup()
    }

    /// Threat: a replay sent one command per revocation, so a request held by the restart gate after a
    /// Redis failover waited seconds for a ledger of thousands of revocations (seen in the chaos run).
    /// The replay is bulk: a few round trips, whatever the ledger's size, and it still ends every session
    /// the ledger names, and every session up to a watermark, and no other.
    @Test(arguments: SessionBackend.allCases)
    func aReplayOfThousandsOfRevocationsIsBulkAndComplete(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind)
        let now = wholeMilliseconds()
        let (accounts, perAccount, revokedPerAccount) = (30, 40, 30)
        var revoked: [UUID: [String]] = [:]
        let ids = (0..<accounts).map { _ in UUID() }
        let marked = Array(ids.prefix(3))
        for account in ids {
            for index in 0..<perAccount {
                let hash = SessionID.hash(SessionID.make())
                let record = SessionRecord(
                    idHash: hash, accountID: account, device: Self.device, created: now, lastActivity: now, idleTimeout: 3600,
                    absoluteExpiry: now.addingTimeInterval(86_400), level: .password, refreshTokenID: SessionID.make())
                _ = try await fixture.backend.store.create(record, limit: 1000, whenFull: .evictOldest, now: now)
                if index < revokedPerAccount { revoked[account, default: []].append(hash) }
            }
            // In the ledger, not in the store: as a store restored from a snapshot older than the revocations.
            try await fixture.ledger.recordRevokedSessions(revoked[account] ?? [], accountID: account, until: now.addingTimeInterval(86_400))
        }
        for account in marked { try await fixture.ledger.recordWatermark(accountID: account, at: now.addingTimeInterval(0.001)) }
        if kind == .redis, let client = fixture.backend.redisClient { try await client.send("SCRIPT", "FLUSH") }  // the cache a restart empties

        let trips = fixture.backend.redisClient?.roundTrips ?? 0
        let report = try #require(try await fixture.service.replayRevocations())
        let spent = (fixture.backend.redisClient?.roundTrips ?? 0) - trips
        #expect(report.watermarks >= marked.count)
        #expect(report.sessions >= accounts * revokedPerAccount)
        if fixture.backend.redisClient != nil {
            // 903 revocations: at most a round trip per slot of each chunk of 256, plus a resend with the
            // scripts' sources after the flush; one command each would be 903.
            #expect(spent <= 2 * (accounts + 4), "\(spent) round trips for \(accounts * revokedPerAccount) revocations")
        }
        for account in ids {
            let live = Set(try await fixture.backend.store.sessions(accountID: account, now: now).map(\.idHash))
            if marked.contains(account) {
                #expect(live.isEmpty)
            } else {
                #expect(live.count == perAccount - revokedPerAccount)
                #expect(live.isDisjoint(with: revoked[account] ?? []))
            }
        }
        await fixture.cleanup()
    }

    /// Threat: refresh rotations lived only in Redis, so a Redis restored from an older snapshot accepted
    /// rotated-out refresh tokens again (and called the real client, holding the newest one, a thief).
    @Test func aRedisSnapshotRestoreRevivesNoRotatedOutRefreshToken() async throws {
        let fixture = try await Fixture.make(.redis, durableLedger: true)
        let redis = try #require(fixture.backend.redis)
        let alice = UUID()
        let first = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let key = RedisArgument("t:{\(alice.lowercasedText)}:s:" + SessionID.hash(first.sessionID))
        // The backup holds the session as it was at login: the first refresh token is the current one.
        guard case .bulkString(let dumped?) = try await redis.client.send("DUMP", key) else {
            Issue.record("no dump")
            return
        }
        let snapshot = Array(buffer: dumped)
        let second = try await fixture.service.refresh(refreshToken: first.refreshToken, context: Self.context)
        let third = try await fixture.service.refresh(refreshToken: second.refreshToken, context: Self.context)

        // Restored (and replayed, as maintenance does): the newest refresh token still works, and is not "reuse".
        try await redis.client.send(["RESTORE", key, "0", RedisArgument(bytes: snapshot), "REPLACE"])
        try await fixture.service.replayRevocations()
        let fourth = try await fixture.service.refresh(refreshToken: third.refreshToken, context: Self.context)
        _ = try await fixture.service.authenticate(accessToken: fourth.accessToken)
        #expect(!fixture.actions.contains("security.suspicious_activity"))

        // Restored again, with no replay yet: the token the snapshot calls current is a used one, and refused.
        try await redis.client.send(["RESTORE", key, "0", RedisArgument(bytes: snapshot), "REPLACE"])
        let error = try await #require(throws: SessionError.self) { try await fixture.service.refresh(refreshToken: first.refreshToken, context: Self.context) }
        #expect(error.code == .refreshTokenReused)
        for token in [fourth.refreshToken, second.refreshToken] {
            await #expect(throws: SessionError.self) { try await fixture.service.refresh(refreshToken: token, context: Self.context) }
        }
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: fourth.accessToken) }
        await fixture.cleanup()
    }
}
