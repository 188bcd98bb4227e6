import Foundation
import Testing
import WardenSessions

/// One suite, every backend: memory, SQLite, PostgreSQL, Redis.
struct SessionStoreTests {
    @Test(arguments: SessionBackend.allCases)
    func createValidateAndList(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, first) = makeSession(account: account, created: now)
        let (_, second) = makeSession(account: account, created: now.addingTimeInterval(1))
        #expect(try await fixture.store.create(first, limit: 10, whenFull: .evictOldest, now: now).isEmpty)
        #expect(try await fixture.store.create(second, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(1)).isEmpty)

        let validated = try await fixture.store.validate(sessionHash: first.idHash, accountID: account, tokenID: "t1", now: now.addingTimeInterval(5))
        #expect(validated?.lastActivity == now.addingTimeInterval(5))
        #expect(validated?.device == first.device)
        #expect(try await fixture.store.session(hash: first.idHash, accountID: account)?.lastActivity == now.addingTimeInterval(5))
        // Another account's id does not validate it.
        #expect(try await fixture.store.validate(sessionHash: first.idHash, accountID: UUID(), tokenID: "t1", now: now) == nil)
        #expect(try await fixture.store.validate(sessionHash: "nonexistent", accountID: account, tokenID: "t1", now: now) == nil)

        let listed = try await fixture.store.sessions(accountID: account, now: now.addingTimeInterval(6))
        #expect(listed.map(\.idHash) == [first.idHash, second.idHash])
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func idleAndAbsoluteExpiry(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, session) = makeSession(account: account, created: now, idle: 100, lifetime: 250)
        _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now)
        // Activity every 90 s keeps it alive ...
        #expect(try await fixture.store.validate(sessionHash: session.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(90)) != nil)
        #expect(try await fixture.store.validate(sessionHash: session.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(180)) != nil)
        // ... but never past the absolute lifetime.
        #expect(try await fixture.store.validate(sessionHash: session.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(250)) == nil)
        let (_, idle) = makeSession(account: account, created: now, idle: 100, lifetime: 250)
        _ = try await fixture.store.create(idle, limit: 10, whenFull: .evictOldest, now: now)
        #expect(try await fixture.store.validate(sessionHash: idle.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(100)) == nil)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func revokeOneAllAndOthers(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let sessions = (0..<4).map { makeSession(account: account, created: now.addingTimeInterval(Double($0))).record }
        for (index, session) in sessions.enumerated() {
            _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(Double(index)))
        }
        #expect(try await !fixture.store.revoke(sessionHash: sessions[0].idHash, accountID: UUID()))
        #expect(try await fixture.store.revoke(sessionHash: sessions[0].idHash, accountID: account))
        #expect(try await !fixture.store.revoke(sessionHash: sessions[0].idHash, accountID: account))
        let others = try await fixture.store.revokeAll(accountID: account, except: sessions[3].idHash, watermark: nil)
        #expect(Set(others) == Set([sessions[1].idHash, sessions[2].idHash]))
        #expect(try await fixture.store.sessions(accountID: account, now: now.addingTimeInterval(10)).map(\.idHash) == [sessions[3].idHash])
        let all = try await fixture.store.revokeAll(accountID: account, except: nil, watermark: now.addingTimeInterval(10))
        #expect(all == [sessions[3].idHash])
        #expect(try await fixture.store.sessions(accountID: account, now: now.addingTimeInterval(11)).isEmpty)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func theWatermarkOutlastsTheSessions(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, existing) = makeSession(account: account, created: now)
        _ = try await fixture.store.create(existing, limit: 10, whenFull: .evictOldest, now: now)
        _ = try await fixture.store.revokeAll(accountID: account, except: nil, watermark: now.addingTimeInterval(5))
        #expect(try await fixture.store.validate(sessionHash: existing.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(7)) == nil)
        // A login after the logout-all, on a node whose clock is behind the one that wrote the watermark
        // (its session says it began before the watermark), is not covered by it: it came after.
        let (_, late) = makeSession(account: account, created: now.addingTimeInterval(2))
        _ = try await fixture.store.create(late, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(2))
        #expect(try await fixture.store.validate(sessionHash: late.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(7)) != nil)
        let (_, new) = makeSession(account: account, created: now.addingTimeInterval(6))
        _ = try await fixture.store.create(new, limit: 10, whenFull: .evictOldest, now: now.addingTimeInterval(6))
        #expect(try await fixture.store.validate(sessionHash: new.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(7)) != nil)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func revokedTokensAreRefused(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, session) = makeSession(account: account, created: now)
        _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now)
        try await fixture.store.revokeToken(id: "stolen", accountID: account, until: Date().addingTimeInterval(600))
        #expect(try await fixture.store.validate(sessionHash: session.idHash, accountID: account, tokenID: "stolen", now: now) == nil)
        #expect(try await fixture.store.validate(sessionHash: session.idHash, accountID: account, tokenID: "fresh", now: now) != nil)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func refreshRotationAndReuse(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, session) = makeSession(account: account, created: now, refresh: "r1")
        _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now)
        guard case .rotated(let rotated) = try await fixture.store.rotateRefresh(sessionHash: session.idHash, accountID: account, presented: "r1", next: "r2", now: now) else {
            Issue.record("expected a rotation")
            return await fixture.cleanup()
        }
        #expect(rotated.refreshTokenID == "r2")
        #expect(try await fixture.store.rotateRefresh(sessionHash: session.idHash, accountID: UUID(), presented: "r2", next: "x", now: now) == .invalid)
        // r1 again: reuse. The session is gone.
        #expect(try await fixture.store.rotateRefresh(sessionHash: session.idHash, accountID: account, presented: "r1", next: "r3", now: now) == .reused(accountID: account))
        #expect(try await fixture.store.rotateRefresh(sessionHash: session.idHash, accountID: account, presented: "r2", next: "r4", now: now) == .invalid)
        #expect(try await fixture.store.session(hash: session.idHash, accountID: account) == nil)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func twentyConcurrentRefreshesRotateOnce(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (_, session) = makeSession(account: account, created: now, refresh: "r1")
        _ = try await fixture.store.create(session, limit: 10, whenFull: .evictOldest, now: now)
        let (node, _) = try await fixture.node()
        let outcomes = try await withThrowingTaskGroup(of: RefreshRotation.self) { group in
            for index in 0..<20 {
                let store = index.isMultiple(of: 2) ? fixture.store : node
                group.addTask { try await store.rotateRefresh(sessionHash: session.idHash, accountID: account, presented: "r1", next: "n\(index)", now: now) }
            }
            return try await group.reduce(into: [RefreshRotation]()) { $0.append($1) }
        }
        let rotated = outcomes.filter { if case .rotated = $0 { true } else { false } }
        #expect(rotated.count == 1)
        #expect(outcomes.count == 20)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func fiftyParallelLoginsWithALimitOfThree(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let (node, _) = try await fixture.node()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                let store = index.isMultiple(of: 2) ? fixture.store : node
                group.addTask {
                    let created = now.addingTimeInterval(Double(index) / 1000)
                    _ = try await store.create(makeSession(account: account, created: created).record, limit: 3, whenFull: .evictOldest, now: created)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await fixture.store.sessions(accountID: account, now: now.addingTimeInterval(1)).count == 3)

        // Deny-new refuses beyond the limit, concurrently too.
        let other = UUID()
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                let store = index.isMultiple(of: 2) ? fixture.store : node
                group.addTask {
                    (try? await store.create(makeSession(account: other, created: now).record, limit: 3, whenFull: .denyNew, now: now)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 3)
        #expect(try await fixture.store.sessions(accountID: other, now: now).count == 3)
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func evictOldestRemovesTheLeastRecentlyActive(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let a = makeSession(account: account, created: now).record
        let b = makeSession(account: account, created: now.addingTimeInterval(1)).record
        _ = try await fixture.store.create(a, limit: 2, whenFull: .evictOldest, now: now)
        _ = try await fixture.store.create(b, limit: 2, whenFull: .evictOldest, now: now.addingTimeInterval(1))
        // a is used after b was created: b is now the least recently active.
        _ = try await fixture.store.validate(sessionHash: a.idHash, accountID: account, tokenID: "t", now: now.addingTimeInterval(2))
        let c = makeSession(account: account, created: now.addingTimeInterval(3)).record
        #expect(try await fixture.store.create(c, limit: 2, whenFull: .evictOldest, now: now.addingTimeInterval(3)) == [b.idHash])
        await fixture.cleanup()
    }

    @Test(arguments: SessionBackend.allCases)
    func loginHistory(_ backend: SessionBackend) async throws {
        let fixture = try await backend.make()
        let now = wholeMilliseconds()
        let account = UUID()
        let phone = Device(userAgent: "Phone/1.0", address: "198.51.100.1")
        let laptop = Device(userAgent: "Laptop/2.0", address: "198.51.100.2")
        #expect(try await fixture.activity.recordLogin(accountID: account, device: phone, now: now, window: 3600) == LoginActivity(isNewDevice: false, distinctAddresses: 1))
        #expect(try await fixture.activity.recordLogin(accountID: account, device: phone, now: now.addingTimeInterval(1), window: 3600) == LoginActivity(isNewDevice: false, distinctAddresses: 1))
        #expect(try await fixture.activity.recordLogin(accountID: account, device: laptop, now: now.addingTimeInterval(2), window: 3600) == LoginActivity(isNewDevice: true, distinctAddresses: 2))
        let moved = Device(userAgent: "Phone/1.0", address: "203.0.113.5")
        #expect(try await fixture.activity.recordLogin(accountID: account, device: moved, now: now.addingTimeInterval(3), window: 3600) == LoginActivity(isNewDevice: false, distinctAddresses: 3))
        // An hour later only the recent address counts.
        #expect(try await fixture.activity.recordLogin(accountID: account, device: moved, now: now.addingTimeInterval(3700), window: 3600).distinctAddresses == 1)
        let devices = try await fixture.activity.devices(accountID: account)
        #expect(devices.map(\.userAgent) == ["Phone/1.0", "Laptop/2.0"])
        #expect(devices.first?.firstSeen == now)
        for offset in 0..<4 {
            _ = try await fixture.activity.recordFailedLogin(accountID: account, now: now.addingTimeInterval(Double(offset)), window: 3600)
        }
        #expect(try await fixture.activity.recordFailedLogin(accountID: account, now: now.addingTimeInterval(5), window: 3600) == 5)
        #expect(try await fixture.activity.recordFailedLogin(accountID: account, now: now.addingTimeInterval(4000), window: 3600) == 1)
        await fixture.cleanup()
    }
}
