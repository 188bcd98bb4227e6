import Foundation
import NIOCore
import Synchronization
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenRedis
import WardenSQL
import WardenSessions
import WardenTestSupport

/// Sessions end to end: logins, tokens, refresh rotation, revocation, rules, outages — on every backend.
@Suite(.serialized)
struct SessionServiceTests {
    static let context = AuditContext(actor: "test", sourceAddress: "192.0.2.10", requestID: "req")
    static let device = Device(userAgent: "Mozilla/5.0 (X11; Linux)", address: "192.0.2.10")

    struct Fixture {
        let backend: BackendFixture
        let tokens: TokenFixture
        let audit: MemoryAuditLog
        let ledger: any RevocationLedger
        let service: SessionService
        let cleanupLedger: @Sendable () async -> Void

        /// - Parameter durableLedger: Keep the ledger where production does: in SQL (the SQL backends' own
        ///   database; a SQLite database beside Redis). Otherwise in memory.
        static func make(
            _ kind: SessionBackend, policy: SessionPolicy = SessionPolicy(), rules: SuspicionRules = SuspicionRules(), durableLedger: Bool = false
        ) async throws -> Fixture {
            let backend = try await kind.make()
            let tokens = try await TokenFixture.make(policy: policy, verifyingAt: SystemWallClock())
            let audit = MemoryAuditLog(chain: SessionBackend.chain)
            var ledger: any RevocationLedger = MemoryRevocationLedger()
            var cleanupLedger: @Sendable () async -> Void = {}
            if durableLedger, let sql = backend.sql {
                ledger = sql
            } else if durableLedger, kind == .redis || kind == .redisCluster {
                let (database, _, cleanup) = try await TestDatabase.sqlite.makeBackend()
                try await Migrations.migrate(database)
                ledger = SQLStore(backend: database, auditChain: SessionBackend.chain, keyringActor: "ledger")
                cleanupLedger = cleanup
            }
            let service = SessionService(
                store: backend.store, activity: backend.activity, ledger: ledger, tokens: tokens.tokens, policy: policy, rules: rules,
                audit: audit, clock: SystemWallClock())
            // As `warden serve` does at start: the ledger replayed into the store's instance, which the
            // store trusts from then on (tests below also read the store directly).
            try await service.replayIfRestarted()
            return Fixture(backend: backend, tokens: tokens, audit: audit, ledger: ledger, service: service, cleanupLedger: cleanupLedger)
        }

        /// Another node: its own service over the same stores and keys.
        func secondNode() async throws -> SessionService {
            let (store, activity) = try await backend.node()
            return SessionService(store: store, activity: activity, ledger: ledger, tokens: tokens.tokens, audit: audit)
        }

        func cleanup() async {
            await backend.cleanup()
            await cleanupLedger()
        }

        var actions: [String] { audit.events.map(\.action) }
    }

    @Test(arguments: SessionBackend.allCases)
    func loginAuthenticateLogout(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind)
        let account = UUID()
        let issued = try await fixture.service.start(accountID: account, device: Self.device, level: .multiFactor, context: Self.context)
        let caller = try await fixture.service.authenticate(accessToken: issued.accessToken)
        #expect(caller.accountID == account && caller.level == .multiFactor)
        #expect(caller.sessionHash == SessionID.hash(issued.sessionID))
        // The refresh token is not an access token.
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: issued.refreshToken) }
        try await fixture.service.logout(caller, context: Self.context)
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: issued.accessToken) }
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.refresh(refreshToken: issued.refreshToken, context: Self.context) }
        #expect(fixture.actions == ["session.created", "session.revoked"])
        await fixture.backend.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func revokeAllAndRevokeOthers(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind)
        let account = UUID()
        let sessions = try await (0..<3).asyncMap { _ in try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context) }
        let keep = try await fixture.service.authenticate(accessToken: sessions[0].accessToken)
        #expect(try await fixture.service.revokeOthers(accountID: account, keeping: keep.sessionHash, reason: "password_changed", context: Self.context) == 2)
        _ = try await fixture.service.authenticate(accessToken: sessions[0].accessToken)
        for other in sessions.dropFirst() {
            await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: other.accessToken) }
        }
        #expect(try await fixture.service.revokeAll(accountID: account, reason: "logout_all", context: Self.context) == 1)
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: sessions[0].accessToken) }
        // A new login afterwards works. (The watermark is inclusive to the millisecond: a login within the same
        // millisecond as the revocation is refused, never the other way round.)
        try await Task.sleep(for: .milliseconds(2))
        let again = try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
        _ = try await fixture.service.authenticate(accessToken: again.accessToken)
        // Sessions of one account cannot be revoked through another.
        await #expect(throws: SessionError.self) {
            try await fixture.service.revoke(sessionHash: SessionID.hash(again.sessionID), accountID: UUID(), context: Self.context)
        }
        await fixture.backend.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func refreshRotatesAndReuseRevokesEverything(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind, durableLedger: true)
        let account = UUID()
        let other = try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
        let first = try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
        let second = try await fixture.service.refresh(refreshToken: first.refreshToken, context: Self.context)
        #expect(second.sessionID == first.sessionID)
        #expect(second.refreshToken != first.refreshToken)
        _ = try await fixture.service.authenticate(accessToken: second.accessToken)
        // The first refresh token again: theft. The session and (by default) every session of the account end.
        let error = try await #require(throws: SessionError.self) { try await fixture.service.refresh(refreshToken: first.refreshToken, context: Self.context) }
        #expect(error.code == .refreshTokenReused)
        for token in [second.accessToken, other.accessToken] {
            await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: token) }
        }
        await #expect(throws: SessionError.self) { try await fixture.service.refresh(refreshToken: second.refreshToken, context: Self.context) }
        let alert = try #require(fixture.audit.events.first { $0.action == "security.suspicious_activity" })
        #expect(alert.details["rule"] == "refresh_token_reuse")
        #expect(fixture.actions.contains("session.revoked_all"))
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func twentyConcurrentRefreshesOfOneTokenSucceedOnce(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind, durableLedger: true)
        let node = try await fixture.secondNode()
        let issued = try await fixture.service.start(accountID: UUID(), device: Self.device, level: .password, context: Self.context)
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                let service = index.isMultiple(of: 2) ? fixture.service : node
                group.addTask { (try? await service.refresh(refreshToken: issued.refreshToken, context: Self.context)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func fiftyParallelLoginsLeaveAtMostThreeSessions(_ kind: SessionBackend) async throws {
        var policy = SessionPolicy()
        policy.maximumSessions = 3
        let fixture = try await Fixture.make(kind, policy: policy)
        let account = UUID()
        let issued = try await withThrowingTaskGroup(of: SessionService.Issued.self) { group in
            for _ in 0..<50 { group.addTask { try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context) } }
            return try await group.reduce(into: [SessionService.Issued]()) { $0.append($1) }
        }
        var live = 0
        for tokens in issued where (try? await fixture.service.authenticate(accessToken: tokens.accessToken)) != nil { live += 1 }
        #expect(live <= 3)
        #expect(try await fixture.service.sessions(accountID: account).count == 3)
        #expect(fixture.actions.filter { $0 == "session.evicted" }.count == 47)
        await fixture.backend.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func suspiciousActivityRulesOneByOne(_ kind: SessionBackend) async throws {
        var rules = SuspicionRules()
        rules.manyAddresses = .init(action: .record, threshold: 2, window: 3600)
        rules.failedLogins = .init(action: .revokeAllSessions, threshold: 3, window: 3600)
        let fixture = try await Fixture.make(kind, rules: rules)
        let account = UUID()
        func alerts() -> [String] { fixture.audit.events.filter { $0.action == "security.suspicious_activity" }.compactMap { $0.details["rule"] } }

        _ = try await fixture.service.start(accountID: account, device: Device(userAgent: "Phone", address: "198.51.100.1"), level: .password, context: Self.context)
        #expect(alerts().isEmpty)
        _ = try await fixture.service.start(accountID: account, device: Device(userAgent: "Phone", address: "198.51.100.2"), level: .password, context: Self.context)
        #expect(alerts().isEmpty)
        _ = try await fixture.service.start(accountID: account, device: Device(userAgent: "Phone", address: "198.51.100.3"), level: .password, context: Self.context)
        #expect(alerts() == ["many_addresses"])
        let laptop = try await fixture.service.start(accountID: account, device: Device(userAgent: "Laptop", address: "198.51.100.3"), level: .password, context: Self.context)
        // A laptop on a known address: a new device; the address count still exceeds the threshold.
        #expect(alerts() == ["many_addresses", "new_device", "many_addresses"])
        for _ in 0..<2 { try await fixture.service.recordFailedLogin(accountID: account, context: Self.context) }
        _ = try await fixture.service.authenticate(accessToken: laptop.accessToken)
        try await fixture.service.recordFailedLogin(accountID: account, context: Self.context)
        #expect(alerts().last == "failed_logins")
        // That rule is set to revoke every session.
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: laptop.accessToken) }
        let analytics = try await fixture.service.analytics(accountID: account)
        #expect(analytics.activeSessions == 0)
        #expect(Set(analytics.devices.map(\.userAgent)) == ["Phone", "Laptop"])
        await fixture.backend.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func aRevocationOnOneNodeIsRefusedByAnotherAtOnce(_ kind: SessionBackend) async throws {
        let fixture = try await Fixture.make(kind)
        let node = try await fixture.secondNode()
        let issued = try await fixture.service.start(accountID: UUID(), device: Self.device, level: .password, context: Self.context)
        let onNode = try await node.authenticate(accessToken: issued.accessToken)
        try await fixture.service.logout(try await fixture.service.authenticate(accessToken: issued.accessToken), context: Self.context)
        await #expect(throws: SessionError.invalidToken) { try await node.authenticate(accessToken: issued.accessToken) }
        _ = onNode
        await fixture.backend.cleanup()
    }

    @Test func redisOutagesFailClosedThenRecover() async throws {
        let fixture = try await Fixture.make(.redis)
        let redis = try #require(fixture.backend.redis)
        let account = UUID()
        let issued = try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
        _ = try await fixture.service.authenticate(accessToken: issued.accessToken)
        await redis.server.stop()
        for attempt in 0..<3 {
            let error = try await #require(throws: SessionError.self, "attempt \(attempt)") { try await fixture.service.authenticate(accessToken: issued.accessToken) }
            #expect(error.code == .unavailable)
            let login = try await #require(throws: SessionError.self) { try await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context) }
            #expect(login.code == .unavailable)
        }
        try await redis.server.start()
        // Back by itself. The restarted server kept nothing (no persistence): the old session is gone, which
        // logs the user out but never lets anyone in.
        var recovered: SessionService.Issued?
        for _ in 0..<100 where recovered == nil {
            recovered = try? await fixture.service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
            if recovered == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let fresh = try #require(recovered)
        _ = try await fixture.service.authenticate(accessToken: fresh.accessToken)
        await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: issued.accessToken) }
        await fixture.backend.cleanup()
    }

    @Test func aFlushedOrRolledBackRedisNeverRevivesARevokedToken() async throws {
        let fixture = try await Fixture.make(.redis)
        let redis = try #require(fixture.backend.redis)
        let alice = UUID()
        let bob = UUID()
        let aliceTokens = try await fixture.service.start(accountID: alice, device: Self.device, level: .password, context: Self.context)
        let bobTokens = try await fixture.service.start(accountID: bob, device: Self.device, level: .password, context: Self.context)
        let aliceKey = "t:{\(alice.lowercasedText)}:s:" + SessionID.hash(aliceTokens.sessionID)
        let bobKey = "t:{\(bob.lowercasedText)}:s:" + SessionID.hash(bobTokens.sessionID)
        // Snapshots of both sessions as a backup would hold them.
        let aliceDump = try await redis.client.send("DUMP", RedisArgument(aliceKey))
        let bobDump = try await redis.client.send("DUMP", RedisArgument(bobKey))
        try await fixture.service.logout(try await fixture.service.authenticate(accessToken: aliceTokens.accessToken), context: Self.context)
        try await fixture.service.revokeAll(accountID: bob, reason: "test", context: Self.context)

        // Flushed: everyone is logged out; nothing revoked comes back.
        try await redis.client.send("FLUSHALL")
        for token in [aliceTokens.accessToken, bobTokens.accessToken] {
            await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: token) }
        }
        // Rolled back to the backup: the revoked sessions reappear in Redis ...
        for (key, dump) in [(aliceKey, aliceDump), (bobKey, bobDump)] {
            guard case .bulkString(let bytes?) = dump else {
                Issue.record("no dump")
                continue
            }
            try await redis.client.send(["RESTORE", RedisArgument(key), "0", RedisArgument(bytes: Array(buffer: bytes))])
        }
        // ... and the durable ledger, replayed as every node does at start, revokes them again.
        try await fixture.service.replayRevocations()
        for token in [aliceTokens.accessToken, bobTokens.accessToken] {
            await #expect(throws: SessionError.invalidToken) { try await fixture.service.authenticate(accessToken: token) }
        }
        #expect(try await redis.client.send("EXISTS", RedisArgument(aliceKey)).int == 0)
        await fixture.backend.cleanup()
    }

    @Test func aRedisRestartedFromAnOldSnapshotIsNeverTrustedBeforeTheReplay() async throws {
        let (server, client, service) = try await Self.restartableRedis(ledger: MemoryRevocationLedger())
        #expect(try await service.replayIfRestarted())  // the first check always replays
        #expect(try await service.replayIfRestarted() == false)  // same instance: nothing to do

        let account = UUID()
        let issued = try await service.start(accountID: account, device: Self.device, level: .password, context: Self.context)
        try await client.send("SAVE")  // the backup, taken while the session was live
        try await service.logout(try await service.authenticate(accessToken: issued.accessToken), context: Self.context)
        await #expect(throws: SessionError.invalidToken) { try await service.authenticate(accessToken: issued.accessToken) }
        #expect(try await service.replayIfRestarted() == false)

        await server.stop()
        try await server.start()  // loads the backup: the revoked session is back in Redis
        let key = "t:{\(account.lowercasedText)}:s:" + SessionID.hash(issued.sessionID)
        var restored: Int64?
        for _ in 0..<100 where restored == nil {
            restored = try? await client.send("EXISTS", RedisArgument(key)).int
            if restored == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(restored == 1)
        // No window: the very first requests after the restart, before any maintenance check, meet an
        // instance the ledger was not replayed into; they wait for the replay (one, shared) and are refused.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    do {
                        _ = try await service.authenticate(accessToken: issued.accessToken)
                        return true
                    } catch let error as SessionError {
                        #expect(error == .invalidToken)
                        return false
                    }
                }
            }
            for try await accepted in group { #expect(!accepted, "a revoked session was accepted by a restarted Redis") }
        }
        #expect(try await client.send("EXISTS", RedisArgument(key)).int == 0)
        // The requests replayed it: the maintenance check finds nothing left to do.
        #expect(try await service.replayIfRestarted() == false)
        await #expect(throws: SessionError.invalidToken) { try await service.authenticate(accessToken: issued.accessToken) }

        // The loop itself: after another restart from the snapshot, it corrects Redis on its own.
        await server.stop()
        try await server.start()
        let maintenance = Task { await service.runMaintenance(every: .milliseconds(50)) }
        defer { maintenance.cancel() }
        var gone = false
        for _ in 0..<100 where !gone {
            gone = (try? await client.send("EXISTS", RedisArgument(key)).int) == 0
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(gone)
        await client.close()
        await server.stop()
    }

    /// A session service over a private Redis server (with its own directory, so `SAVE` then a restart
    /// brings that snapshot back) and `ledger`; the client reconnects quickly after a restart.
    static func restartableRedis(ledger: any RevocationLedger) async throws -> (RedisServer, RedisClient, SessionService) {
        let server = try RedisServer()
        try await server.start()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.initialBackoff = .milliseconds(20)
        configuration.maximumBackoff = .milliseconds(100)
        let client = RedisClient(configuration: configuration)
        let store = RedisSessionStore(client: client, prefix: "t")
        let tokens = try await TokenFixture.make(verifyingAt: SystemWallClock())
        let service = SessionService(store: store, activity: store, ledger: ledger, tokens: tokens.tokens, audit: MemoryAuditLog(chain: SessionBackend.chain))
        return (server, client, service)
    }

    /// Threat: a request that met a restarted Redis waited for the whole ledger replay, however long it
    /// took, so a slow replay (a large ledger, a slow database) left clients with no answer at all. It
    /// waits at most ``SessionService/replayWait`` and answers 503; the replay goes on and the requests
    /// after it are answered, still never from an un-replayed Redis.
    @Test func aRequestWaitsForASlowReplayAtMostTheReplayWait() async throws {
        let ledger = SlowLedger()
        let (server, client, service) = try await Self.restartableRedis(ledger: ledger)
        try await service.replayIfRestarted()
        let issued = try await service.start(accountID: UUID(), device: Self.device, level: .password, context: Self.context)
        try await client.send("SAVE")
        try await service.logout(try await service.authenticate(accessToken: issued.accessToken), context: Self.context)

        await server.stop()
        try await server.start()  // the revoked session is back, in an instance nothing was replayed into
        ledger.delay.withLock { $0 = .seconds(6) }
        let started = ContinuousClock.now
        let first = try await #require(throws: SessionError.self) { try await service.authenticate(accessToken: issued.accessToken) }
        let waited = ContinuousClock.now - started
        #expect(first.code == .unavailable)
        #expect(waited >= SessionService.replayWait - .milliseconds(100) && waited < SessionService.replayWait + .seconds(2), "waited \(waited)")
        // The replay went on without the request: once it is done, the revoked session is refused.
        var answer: SessionError.Code = .unavailable
        while answer == .unavailable, ContinuousClock.now - started < .seconds(20) {
            do {
                _ = try await service.authenticate(accessToken: issued.accessToken)
                Issue.record("a revoked session was accepted")
                break
            } catch let error as SessionError {
                answer = error.code
            }
        }
        #expect(answer == SessionError.invalidToken.code)
        #expect(ContinuousClock.now - started >= .seconds(6), "answered before the replay was done")
        #expect(try await service.replayIfRestarted() == false)  // the request's replay finished the job
        await client.close()
        await server.stop()
    }

}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// A ledger whose reads take `delay` (a large ledger on a slow database).
final class SlowLedger: RevocationLedger {
    let inner = MemoryRevocationLedger()
    let delay = Mutex<Duration>(.zero)

    func recordRevokedSessions(_ hashes: [String], accountID: UUID, at: Date, until: Date, limit: Int) async throws {
        await inner.recordRevokedSessions(hashes, accountID: accountID, at: at, until: until, limit: limit)
    }
    func recordWatermark(accountID: UUID, at: Date) async throws { await inner.recordWatermark(accountID: accountID, at: at) }
    func recordRevokedToken(id: String, until: Date) async throws { await inner.recordRevokedToken(id: id, until: until) }
    func activeRevocations(now: Date) async throws -> Revocations {
        try await Task.sleep(for: delay.withLock { $0 })
        return await inner.activeRevocations(now: now)
    }
    func recordRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, generation: Int64, until: Date) async throws -> Bool {
        await inner.recordRefreshRotation(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, generation: generation, until: until)
    }
    func adoptRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, storeGeneration: Int64, until: Date) async throws -> Int64? {
        await inner.adoptRefreshRotation(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, storeGeneration: storeGeneration, until: until)
    }
}
