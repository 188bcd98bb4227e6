import Foundation
import Testing
import WardenAudit
import WardenCore
import WardenRedis
import WardenSessions
import WardenSQL

/// The durable ledger against the fast store losing or rolling back data.
@Suite(.serialized)
struct LedgerDurabilityTests {
    typealias Fixture = SessionServiceTests.Fixture
    static let context = SessionServiceTests.context
    static let device = SessionServiceTests.device

    /// Puts `records` back into the store as a restored snapshot would hold them: on Redis, the account's
    /// watermark rolls back too (the snapshot predates it).
    static func restore(_ records: [SessionRecord], into fixture: Fixture) async throws {
        for record in records {
            if let redis = fixture.backend.redis {
                try await redis.client.send("DEL", RedisArgument("t:wm:" + record.accountID.lowercasedText))
            }
            _ = try await fixture.backend.store.create(record, limit: 100, whenFull: .evictOldest, now: wholeMilliseconds())
        }
    }

    /// Threat: a replay revoked every session of an account with a watermark, so each node start or Redis
    /// restart logged out everyone who had signed in again after a logout-all.
    @Test(arguments: SessionBackend.allCases)
    func aReplayEndsOnlySessionsCreatedUpToTheWatermark(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind, durableLedger: true)
        let alice = UUID()
        let before = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let backup = try #require(try await fixture.backend.store.session(hash: SessionID.hash(before.sessionID)))
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
}
