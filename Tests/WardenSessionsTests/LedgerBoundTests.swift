import Foundation
import Testing
import WardenSessions

/// The per-account bound on the ledger's revoked-session rows, on every backend.
@Suite(.serialized)
struct LedgerBoundTests {
    typealias Fixture = SessionServiceTests.Fixture

    /// Threat: unbounded ledger growth for one account (one row per revoked session for 30 days). Past the
    /// bound the oldest rows fold into the watermark, and a restore still revives none of them.
    @Test(arguments: SessionBackend.allCases)
    func theLedgerKeepsABoundedNumberOfRowsPerAccountAndRevivesNothing(_ kind: SessionBackend) async throws {
        var policy = SessionPolicy()
        policy.maximumRevokedSessions = 3
        let fixture = try await Fixture.make(kind, policy: policy, durableLedger: true)
        let alice = UUID()
        var backups: [SessionRecord] = []
        var revoked: [String] = []
        for _ in 0..<6 {
            let issued = try await fixture.service.start(accountID: alice, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
            let hash = SessionID.hash(issued.sessionID)
            backups.append(try #require(try await fixture.backend.store.session(hash: hash, accountID: alice)))
            revoked.append(issued.accessToken)
            try await fixture.service.revoke(sessionHash: hash, accountID: alice, context: SessionServiceTests.context)
            try await Task.sleep(for: .milliseconds(2))
        }
        // Past the last revocation's millisecond: a folded watermark ends sessions created at or before it.
        try await Task.sleep(for: .milliseconds(2))
        let kept = try await fixture.service.start(accountID: alice, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        let revocations = try await fixture.ledger.activeRevocations(now: Date())
        #expect(revocations.sessions.filter { $0.accountID == alice }.count == 3)
        #expect(revocations.watermarks.contains { $0.accountID == alice })

        try await LedgerDurabilityTests.restore(backups, into: fixture)
        try await fixture.service.replayRevocations()
        for token in revoked {
            await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: token) }
        }
        _ = try await fixture.service.authenticate(accessToken: kept.accessToken)
        await fixture.cleanup()
    }
}
