import Foundation
import Testing
import WardenAudit
import WardenCore
import WardenSessions

/// `revokeOthers` records the ledger before the store, as `revokeAll` does.
struct RevokeOthersLedgerTests {
    /// A memory store whose revoke-all fails, as a Redis that goes away in the middle of the call would.
    final class StoreFailingRevokeAll: SessionStore {
        let inner = MemorySessionStore()
        struct Failure: Error {}

        func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String] {
            try await inner.create(session, limit: limit, whenFull: whenFull, now: now)
        }
        func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord? {
            await inner.validate(sessionHash: sessionHash, accountID: accountID, tokenID: tokenID, now: now)
        }
        func session(hash: String, accountID: UUID) async throws -> SessionRecord? { await inner.session(hash: hash, accountID: accountID) }
        func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord] { await inner.sessions(accountID: accountID, now: now) }
        func revoke(sessionHash: String, accountID: UUID) async throws -> Bool { await inner.revoke(sessionHash: sessionHash, accountID: accountID) }
        func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String] { throw Failure() }
        func revokeToken(id: String, accountID: UUID, until: Date) async throws { await inner.revokeToken(id: id, accountID: accountID, until: until) }
        func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation {
            await inner.rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now)
        }
    }

    /// Threat: `revokeOthers` ended sessions in the store before recording them, so a failure (or a Redis
    /// restore) in between left a revoked session that the ledger did not know about.
    @Test func revokeOthersRecordsTheLedgerBeforeTheStore() async throws {
        let store = StoreFailingRevokeAll()
        let ledger = MemoryRevocationLedger()
        let tokens = try await TokenFixture.make(verifyingAt: SystemWallClock())
        let service = SessionService(
            store: store, activity: store.inner, ledger: ledger, tokens: tokens.tokens, audit: MemoryAuditLog(chain: SessionBackend.chain))
        let alice = UUID()
        let kept = try await service.start(accountID: alice, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        let other = try await service.start(accountID: alice, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
        let keptHash = SessionID.hash(kept.sessionID)
        let otherHash = SessionID.hash(other.sessionID)

        let error = try await #require(throws: SessionError.self) {
            try await service.revokeOthers(accountID: alice, keeping: keptHash, reason: "password_changed", context: SessionServiceTests.context)
        }
        #expect(error.code == .unavailable)
        // The store failed midway; the ledger already names the session to end, so the next replay finishes the job.
        #expect(await ledger.activeRevocations(now: Date()).sessions.map(\.hash) == [otherHash])
        try await service.replayRevocations()
        await #expect(throws: SessionError.invalidToken) { try await service.authenticate(accessToken: other.accessToken) }
        _ = try await service.authenticate(accessToken: kept.accessToken)
    }
}
