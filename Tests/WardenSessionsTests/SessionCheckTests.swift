import Foundation
import Testing
import WardenCore
import WardenRedis
import WardenSessions

/// The token check's single round trip: the session, the account's status and the listing together.
@Suite(.serialized)
struct SessionCheckTests {
    /// The listing a check brings back is exactly what `sessions(accountID:now:)` answers: live sessions
    /// of this account only, most recently active first, nothing past the watermark, on every backend.
    @Test(arguments: SessionBackend.allCases)
    func theCheckListsWhatTheListingWould(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let other = UUID()
        var hashes: [String] = []
        for offset in 0..<3 {
            let (_, session) = makeSession(account: account, created: now.addingTimeInterval(Double(offset)))
            _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(Double(offset)))
            hashes.append(session.idHash)
        }
        let (_, idle) = makeSession(account: account, created: now.addingTimeInterval(-100), idle: 10)
        _ = try await fixture.store.create(idle, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(-100))
        let (_, foreign) = makeSession(account: other, created: now)
        _ = try await fixture.store.create(foreign, limit: 10, whenFull: .evictOldest, now: now)

        let checked = try #require(try await fixture.store.check(sessionHash: hashes[0], accountID: account, tokenID: "t", now: now.addingTimeInterval(5), listing: true))
        #expect(checked.session.idHash == hashes[0])
        #expect(checked.session.lastActivity == now.addingTimeInterval(5))
        let listed = try #require(checked.sessions)
        #expect(listed.map(\.idHash) == [hashes[0], hashes[2], hashes[1]])
        #expect(listed.map(\.idHash) == (try await fixture.store.sessions(accountID: account, now: now.addingTimeInterval(5))).map(\.idHash))
        #expect(listed.first?.device == checked.session.device)
        // Without the listing, none comes back; another account's id checks nothing.
        #expect(try await fixture.store.check(sessionHash: hashes[1], accountID: account, tokenID: "t", now: now.addingTimeInterval(6), listing: false)?.sessions == nil)
        #expect(try await fixture.store.check(sessionHash: hashes[1], accountID: other, tokenID: "t", now: now.addingTimeInterval(6), listing: true) == nil)
        // After a logout-all, neither the check nor a listing shows anything.
        _ = try await fixture.store.revokeAll(accountID: account, except: nil, watermark: now.addingTimeInterval(7))
        #expect(try await fixture.store.check(sessionHash: hashes[2], accountID: account, tokenID: "t", now: now.addingTimeInterval(8), listing: true) == nil)
        await fixture.cleanup()
    }

    /// Threat: a disabled account's session keeps working on a node that does not ask the database.
    /// The status written through to Redis is read by the check itself; a reader filling a miss never
    /// overwrites a change written meanwhile.
    @Test func aDisabledAccountIsRefusedByTheCheckItself() async throws {
        let fixture = try await SessionBackend.redis.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, session) = makeSession(account: account, created: now)
        _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now)
        func check() async throws -> SessionCheck? {
            try await fixture.store.check(sessionHash: session.idHash, accountID: account, tokenID: "t", now: wholeMilliseconds(), listing: false)
        }
        #expect(try await check()?.accountActive == nil)  // unknown: the caller asks the database
        try await fixture.store.publishAccountStatus(accountID: account, active: true, onlyIfUnknown: true)
        #expect(try await check()?.accountActive == true)

        try await fixture.store.publishAccountStatus(accountID: account, active: false, onlyIfUnknown: false)
        #expect(try await check() == nil)
        // Another node's reader, which read "active" from the database before the change, cannot undo it.
        try await fixture.store.publishAccountStatus(accountID: account, active: true, onlyIfUnknown: true)
        #expect(try await check() == nil)
        // The session itself was left alone: enabling again (a write-through) lets it back in.
        let (node, _) = try await fixture.node()
        try await node.publishAccountStatus(accountID: account, active: true, onlyIfUnknown: false)
        #expect(try await check()?.accountActive == true)
        // The status expires: the database stays the truth.
        let redis = try #require(fixture.redis)
        let ttl = try await redis.client.send("PTTL", RedisArgument("t:{\(account.lowercasedText)}:st")).int ?? -1
        #expect(ttl > 0 && ttl <= 15 * 60 * 1000)
        await fixture.cleanup()
    }

    /// Threat (found by scripts/chaos.sh): Redis restarted from a snapshot taken while an account was
    /// disabled kept refusing it, enabled since, for up to 15 minutes. The ledger replay (which applies
    /// the watermark the disable wrote) drops the cached status, so the next check reads the database.
    @Test func aReplayedWatermarkDropsTheCachedStatus() async throws {
        let fixture = try await SessionBackend.redis.make()
        let account = UUID()
        try await fixture.store.publishAccountStatus(accountID: account, active: false, onlyIfUnknown: false)
        let redis = try #require(fixture.redis)
        let key = RedisArgument("t:{\(account.lowercasedText)}:st")
        #expect(try await redis.client.send("GET", key).string == "disabled")
        try await fixture.store.applyWatermark(accountID: account, at: Date())
        #expect(try await redis.client.send("EXISTS", key).int == 0)
        await fixture.cleanup()
    }

    /// The measure: one authenticated listing, one Redis round trip — the check with its listing.
    /// Counted by the client and by Redis itself (`INFO commandstats`), after a first call has loaded
    /// the script.
    @Test func anAuthenticatedListingIsOneRedisCommand() async throws {
        let service = try await SessionServiceTests.Fixture.make(.redis)
        let redis = try #require(service.backend.redis)
        let account = UUID()
        let issued = try await service.service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        try await service.service.publishAccountStatus(accountID: account, active: true)
        _ = try await service.service.check(accessToken: issued.accessToken, listing: true)

        let before = try await Self.commandCounts(redis.client)
        let sentBefore = redis.client.roundTrips
        let checked = try await service.service.check(accessToken: issued.accessToken, listing: true)
        #expect(redis.client.roundTrips - sentBefore == 1)
        let after = try await Self.commandCounts(redis.client)
        #expect(checked.sessions?.map(\.idHash) == [SessionID.hash(issued.sessionID)])
        #expect(checked.accountActive == true)
        // Redis agrees: one script ran (the commands inside it are counted too, but no other script or
        // command from a client).
        #expect(after["evalsha", default: 0] - before["evalsha", default: 0] == 1)
        #expect(after["eval", default: 0] == before["eval", default: 0])
        await service.cleanup()
    }

    /// Every key an account's sessions and history use carries the account as a Redis Cluster hash tag,
    /// so each script stays in one slot.
    @Test func everyKeyOfAnAccountIsInItsSlot() async throws {
        let service = try await SessionServiceTests.Fixture.make(.redis)
        let redis = try #require(service.backend.redis)
        let account = UUID()
        let issued = try await service.service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        try await service.service.recordFailedLogin(accountID: account, context: SessionServiceTests.context)
        try await service.service.publishAccountStatus(accountID: account, active: true)
        let authenticated = try await service.service.authenticate(accessToken: issued.accessToken)
        _ = try await service.service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        try await service.service.logout(authenticated, context: SessionServiceTests.context)
        try await service.service.revokeAll(accountID: account, reason: "test", context: SessionServiceTests.context)

        let keys = (try await redis.client.send("KEYS", "*").elements ?? []).compactMap(\.string)
        #expect(keys.count >= 5, "\(keys)")
        for key in keys {
            #expect(key.hasPrefix("t:{\(account.lowercasedText)}:"), "\(key) is outside the account's slot")
        }
        await service.cleanup()
    }

    /// Redis's own per-command call counts.
    static func commandCounts(_ client: RedisClient) async throws -> [String: Int] {
        let text = try await client.send("INFO", "commandstats").string ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            guard let calls = line.split(separator: ",").first?.split(separator: "=").last.flatMap({ Int($0) }) else { continue }
            counts[String(name)] = calls
        }
        return counts
    }
}
