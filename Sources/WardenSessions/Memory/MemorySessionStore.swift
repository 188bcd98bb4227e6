public import Foundation

/// Sessions, revocations and login history in memory: the reference implementation for tests.
public actor MemorySessionStore: SessionStore, ActivityStore {
    private var sessionsByHash: [String: SessionRecord] = [:]
    private var revokedTokens: [String: Date] = [:]
    private var watermarks: [UUID: Date] = [:]
    private var history: [UUID: [String: DeviceSighting]] = [:]
    private var addresses: [UUID: [(String, Date)]] = [:]
    private var failures: [UUID: [Date]] = [:]

    public init() {}

    public func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) throws -> [String] {
        let live = liveSessions(session.accountID, now: now).sorted { $0.lastActivity < $1.lastActivity }
        var evicted: [String] = []
        if live.count >= limit {
            guard whenFull == .evictOldest else { throw SessionError(.limitReached, "the account has the maximum number of sessions") }
            for old in live.prefix(live.count - limit + 1) {
                sessionsByHash[old.idHash] = nil
                evicted.append(old.idHash)
            }
        }
        var session = session
        // A session created after a logout-all is never covered by its watermark, whatever the clock.
        if let watermark = watermarks[session.accountID], session.created <= watermark {
            session.created = watermark.addingTimeInterval(0.001)
        }
        sessionsByHash[session.idHash] = session
        return evicted
    }

    public func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) -> SessionRecord? {
        guard var session = usable(sessionHash, accountID: accountID, now: now),
            revokedTokens[tokenID].map({ $0 <= now }) ?? true
        else { return nil }
        session.lastActivity = now
        sessionsByHash[sessionHash] = session
        return session
    }

    public func session(hash: String, accountID: UUID) -> SessionRecord? { sessionsByHash[hash].flatMap { $0.accountID == accountID ? $0 : nil } }

    public func sessions(accountID: UUID, now: Date) -> [SessionRecord] {
        liveSessions(accountID, now: now).sorted { $0.lastActivity > $1.lastActivity }
    }

    public func revoke(sessionHash: String, accountID: UUID) -> Bool {
        guard sessionsByHash[sessionHash]?.accountID == accountID else { return false }
        sessionsByHash[sessionHash] = nil
        return true
    }

    public func revokeAll(accountID: UUID, except: String?, watermark: Date?) -> [String] {
        let revoked = sessionsByHash.values.filter { $0.accountID == accountID && $0.idHash != except }.map(\.idHash)
        for hash in revoked { sessionsByHash[hash] = nil }
        if let watermark { watermarks[accountID] = max(watermarks[accountID] ?? watermark, watermark) }
        return revoked
    }

    public func revokeToken(id: String, accountID: UUID, until: Date) {
        revokedTokens[id] = until
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) -> RefreshRotation {
        rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now, reportingStale: false)
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date, reportingStale: Bool) -> RefreshRotation {
        guard var session = usable(sessionHash, accountID: accountID, now: now) else { return .invalid }
        guard session.refreshTokenID == presented else {
            if reportingStale { return .stale(generation: session.refreshGeneration) }
            sessionsByHash[sessionHash] = nil
            return .reused(accountID: accountID)
        }
        session.refreshTokenID = next
        session.refreshGeneration += 1
        session.lastActivity = now
        sessionsByHash[sessionHash] = session
        return .rotated(session)
    }

    public func adoptRefresh(sessionHash: String, accountID: UUID, expectedGeneration: Int64, next: String, generation: Int64, now: Date) -> RefreshRotation {
        guard var session = usable(sessionHash, accountID: accountID, now: now), session.refreshGeneration == expectedGeneration else { return .invalid }
        session.refreshTokenID = next
        session.refreshGeneration = generation
        session.lastActivity = now
        sessionsByHash[sessionHash] = session
        return .rotated(session)
    }

    public func applyWatermark(accountID: UUID, at: Date) {
        watermarks[accountID] = max(watermarks[accountID] ?? at, at)
        for session in sessionsByHash.values where session.accountID == accountID && session.created <= at { sessionsByHash[session.idHash] = nil }
    }

    /// Forgets an account's watermark, as a store restored from before it was written would (tests).
    public func dropWatermark(accountID: UUID) {
        watermarks[accountID] = nil
    }

    /// Forgets everything, as a flushed Redis would (tests).
    public func flush() {
        sessionsByHash = [:]
        revokedTokens = [:]
        watermarks = [:]
    }

    // MARK: Activity

    public func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) -> LoginActivity {
        var known = history[accountID] ?? [:]
        let isNew = !known.isEmpty && known[device.fingerprint] == nil
        let first = known[device.fingerprint]?.firstSeen ?? now
        known[device.fingerprint] = DeviceSighting(fingerprint: device.fingerprint, userAgent: device.userAgent, firstSeen: first, lastSeen: now)
        history[accountID] = known
        var seen = (addresses[accountID] ?? []).filter { $0.1 > now.addingTimeInterval(-window) && $0.0 != device.address }
        seen.append((device.address, now))
        addresses[accountID] = seen
        return LoginActivity(isNewDevice: isNew, distinctAddresses: seen.count)
    }

    public func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) -> Int {
        let recent = (failures[accountID] ?? []).filter { $0 > now.addingTimeInterval(-window) } + [now]
        failures[accountID] = recent
        return recent.count
    }

    public func devices(accountID: UUID) -> [DeviceSighting] {
        (history[accountID] ?? [:]).values.sorted { $0.lastSeen > $1.lastSeen }
    }

    // MARK: Helpers

    private func usable(_ hash: String, accountID: UUID, now: Date) -> SessionRecord? {
        guard let session = sessionsByHash[hash], session.accountID == accountID else { return nil }
        guard session.isActive(at: now), watermarks[accountID].map({ session.created > $0 }) ?? true else {
            sessionsByHash[hash] = nil
            return nil
        }
        return session
    }

    private func liveSessions(_ accountID: UUID, now: Date) -> [SessionRecord] {
        sessionsByHash.values.filter { $0.accountID == accountID }.compactMap { usable($0.idHash, accountID: accountID, now: now) }
    }
}

/// Revocation records in memory (tests).
public actor MemoryRevocationLedger: RevocationLedger {
    private var sessions: [String: (account: UUID, at: Date, until: Date)] = [:]
    private var watermarks: [UUID: Date] = [:]
    private var tokens: [String: Date] = [:]
    private var refreshes: [String: (account: UUID, refresh: String, generation: Int64, until: Date)] = [:]

    public init() {}

    public func recordRevokedSessions(_ hashes: [String], accountID: UUID, at: Date, until: Date, limit: Int) {
        for hash in hashes {
            guard let row = sessions[hash] else {
                sessions[hash] = (accountID, at, until)
                continue
            }
            // A row never changes owner.
            if row.account == accountID { sessions[hash] = (accountID, row.at, max(row.until, until)) }
        }
        let rows = sessions.filter { $0.value.account == accountID && $0.value.until > at }.sorted { ($0.value.at, $0.key) > ($1.value.at, $1.key) }
        guard rows.count > limit else { return }
        let folded = rows.dropFirst(max(0, limit))
        for (hash, _) in folded { sessions[hash] = nil }
        if let newest = folded.map(\.value.at).max() { recordWatermark(accountID: accountID, at: newest) }
    }

    public func recordWatermark(accountID: UUID, at: Date) {
        watermarks[accountID] = max(watermarks[accountID] ?? at, at)
    }

    public func recordRevokedToken(id: String, until: Date) {
        tokens[id] = until
    }

    public func activeRevocations(now: Date) -> Revocations {
        Revocations(
            sessions: sessions.filter { $0.value.until > now }.map { ($0.key, $0.value.account) }.sorted { $0.hash < $1.hash },
            watermarks: watermarks.map { ($0.key, $0.value) }.sorted { $0.accountID.uuidString < $1.accountID.uuidString },
            tokens: tokens.filter { $0.value > now }.map { ($0.key, $0.value) }.sorted { $0.id < $1.id })
    }

    public func recordRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, generation: Int64, until: Date) -> Bool {
        if let row = refreshes[sessionHash], row.account != accountID || row.refresh != presented { return false }
        refreshes[sessionHash] = (accountID, next, generation, until)
        return true
    }

    public func adoptRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, storeGeneration: Int64, until: Date) -> Int64? {
        guard let row = refreshes[sessionHash], row.account == accountID, row.refresh == presented, row.generation > storeGeneration else { return nil }
        refreshes[sessionHash] = (accountID, next, row.generation + 1, until)
        return row.generation + 1
    }
}
