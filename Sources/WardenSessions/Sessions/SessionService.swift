public import Foundation
import Synchronization
public import WardenAudit
public import WardenCore

/// Sessions and their tokens: log in, check an access token, refresh, log out, list and revoke, and the
/// suspicious-activity rules.
///
/// - Important: An access token is valid only while its session is: each check asks the store (one round
///   trip), so a revocation takes effect on every node at once. With a ``RevocationLedger`` (production:
///   Redis sessions, SQL ledger), revocations are also recorded durably, and ``replayRevocations()`` puts
///   them back into a store that lost or rolled back its data.
public final class SessionService: Sendable {
    /// The tokens and session a login or refresh produced.
    public struct Issued: Sendable {
        public let accessToken: String
        public let refreshToken: String
        /// The session id (in the tokens' `sid`); only its hash is stored.
        public let sessionID: String
        public let session: SessionRecord
        public let accessExpires: Date
        public let refreshExpires: Date
        /// Sessions revoked to stay under the limit.
        public let evicted: [String]
    }

    /// A caller proven by an access token.
    public struct Authenticated: Sendable, Equatable {
        public let accountID: UUID
        public let sessionHash: String
        public let level: AuthenticationLevel
        public let tokenID: String
        public let tokenExpires: Date
        /// When the session was created, i.e. when its authentication (password, or password and MFA) happened.
        public let sessionCreated: Date
    }

    /// Facts about an account's sessions.
    public struct Analytics: Sendable, Equatable {
        public let activeSessions: Int
        public let devices: [DeviceSighting]
        public let lastActivity: Date?
    }

    let store: any SessionStore
    let activity: any ActivityStore
    let ledger: (any RevocationLedger)?
    let tokens: TokenService
    let policy: SessionPolicy
    let rules: SuspicionRules
    let audit: any AuditAppender
    let clock: any WallClock
    private let replayedInstance = Mutex<String?>(nil)
    /// One replay at a time: the maintenance loop and requests that met an un-replayed instance share it.
    private let replaying = AsyncMutex()
    /// The replay requests are waiting for, if one is under way (``awaitReplay()``).
    private let pendingReplay = Mutex<Task<Bool, any Error>?>(nil)
    private let replayObserver = Mutex<(@Sendable (ReplayReport) -> Void)?>(nil)

    public init(
        store: any SessionStore, activity: any ActivityStore, ledger: (any RevocationLedger)? = nil, tokens: TokenService,
        policy: SessionPolicy = SessionPolicy(), rules: SuspicionRules = SuspicionRules(), audit: any AuditAppender,
        clock: any WallClock = SystemWallClock()
    ) {
        // With a durable ledger, a store that can restart answers only once the ledger is replayed into it.
        if ledger != nil { store.requireReplayedInstance() }
        self.store = store
        self.activity = activity
        self.ledger = ledger
        self.tokens = tokens
        self.policy = policy
        self.rules = rules
        self.audit = audit
        self.clock = clock
    }

    // MARK: Logging in and out

    /// Starts a session for an account that has just authenticated, enforcing the session limit, and
    /// applies the login rules (new device, many addresses).
    public func start(accountID: UUID, device: Device, level: AuthenticationLevel, context: AuditContext) async throws -> Issued {
        let now = now()
        let sessionID = SessionID.make()
        let refreshID = SessionID.make()
        let session = SessionRecord(
            idHash: SessionID.hash(sessionID), accountID: accountID, device: device, created: now, lastActivity: now,
            idleTimeout: policy.idleTimeout, absoluteExpiry: now.addingTimeInterval(policy.refreshTokenLifetime), level: level,
            refreshTokenID: refreshID)
        let evicted = try await guarded { try await store.create(session, limit: policy.maximumSessions, whenFull: policy.whenFull, now: now) }
        try await recordRevoked(evicted, accountID: accountID, now: now)
        var events = [
            context.event(
                "session.created", subject: subject(accountID),
                details: ["session": String(session.idHash.prefix(12)), "level": level.rawValue, "device": device.fingerprint, "address": device.address], at: now)
        ]
        events += evicted.map { context.event("session.evicted", subject: subject(accountID), details: ["session": String($0.prefix(12))], at: now) }
        try await audit.append(events)

        let seen = try await guarded { try await activity.recordLogin(accountID: accountID, device: device, now: now, window: rules.manyAddresses?.window ?? 3600) }
        if let rule = rules.newDevice, seen.isNewDevice {
            try await raise("new_device", rule: rule, accountID: accountID, details: ["device": device.fingerprint, "address": device.address], context: context)
        }
        if let rule = rules.manyAddresses, seen.distinctAddresses > rule.threshold {
            try await raise("many_addresses", rule: rule, accountID: accountID, details: ["addresses": String(seen.distinctAddresses)], context: context)
        }
        return try await issue(sessionID: sessionID, refreshID: refreshID, session: session, evicted: evicted, now: now)
    }

    /// Records a failed login for the failed-login rule.
    public func recordFailedLogin(accountID: UUID, context: AuditContext) async throws {
        guard let rule = rules.failedLogins else { return }
        let count = try await guarded { try await activity.recordFailedLogin(accountID: accountID, now: now(), window: rule.window) }
        if count == rule.threshold {
            try await raise("failed_logins", rule: rule, accountID: accountID, details: ["failures": String(count)], context: context)
        }
    }

    /// Checks an access token and its session (signature, claims, then one round trip to the store).
    ///
    /// - Throws: ``SessionError/invalidToken``, or ``SessionError/Code/unavailable`` when the store cannot
    ///   be reached (never a success).
    public func authenticate(accessToken: String) async throws -> Authenticated {
        try await check(accessToken: accessToken, listing: false).authenticated
    }

    /// What ``check(accessToken:listing:)`` found.
    public struct Checked: Sendable {
        public let authenticated: Authenticated
        /// The account's status as the store last heard it; `nil`: ask the database.
        public let accountActive: Bool?
        /// The account's live sessions, when asked for.
        public let sessions: [SessionRecord]?
    }

    /// Checks an access token and its session in one round trip, which also brings back the account's
    /// status as written through to the store and, with `listing`, the account's live sessions.
    public func check(accessToken: String, listing: Bool) async throws -> Checked {
        let claims = try await tokens.verify(accessToken, as: .access)
        guard let accountID = UUID(text: claims.sub) else { throw SessionError.invalidToken }
        let hash = SessionID.hash(claims.sid)
        guard let found = try await guarded({ try await store.check(sessionHash: hash, accountID: accountID, tokenID: claims.jti, now: now(), listing: listing) }) else {
            throw SessionError.invalidToken
        }
        let authenticated = Authenticated(
            accountID: accountID, sessionHash: hash, level: found.session.level, tokenID: claims.jti,
            tokenExpires: Date(timeIntervalSince1970: TimeInterval(claims.exp)), sessionCreated: found.session.created)
        return Checked(authenticated: authenticated, accountActive: found.accountActive, sessions: found.sessions)
    }

    /// Writes the account's status through to the store that checks sessions (after the database has
    /// changed, or to fill a miss with `onlyIfUnknown`).
    public func publishAccountStatus(accountID: UUID, active: Bool, onlyIfUnknown: Bool = false) async throws {
        try await guarded { try await store.publishAccountStatus(accountID: accountID, active: active, onlyIfUnknown: onlyIfUnknown) }
    }

    /// Exchanges a refresh token for new tokens. The refresh token rotates: presenting one a second time
    /// revokes its session (and, by default, every session of the account) and records a security event.
    ///
    /// - Important: With a ledger, each rotation is also recorded durably (one SQL write per refresh), and
    ///   the ledger has the last word: a store restored from an older snapshot cannot make a rotated-out
    ///   refresh token current again, and the newest token keeps working (the store is brought forward).
    public func refresh(refreshToken: String, context: AuditContext) async throws -> Issued {
        let claims = try await tokens.verify(refreshToken, as: .refresh)
        guard let accountID = UUID(text: claims.sub) else { throw SessionError.invalidToken }
        let now = now()
        let next = SessionID.make()
        let hash = SessionID.hash(claims.sid)
        let until = session(until: now)
        var outcome = try await guarded {
            try await store.rotateRefresh(sessionHash: hash, accountID: accountID, presented: claims.jti, next: next, now: now, reportingStale: ledger != nil)
        }
        if let ledger {
            switch outcome {
            case .rotated(let session):
                // The store took the token; the ledger refuses it if it knows a newer one (the store was behind).
                let recorded = try await ledger.recordRefreshRotation(
                    sessionHash: hash, accountID: accountID, presented: claims.jti, next: next, generation: session.refreshGeneration, until: until)
                if !recorded { outcome = .reused(accountID: accountID) }
            case .stale(let generation):
                // Not the store's current token: reuse, unless the ledger shows the store is behind and this is the newest.
                if let adopted = try await ledger.adoptRefreshRotation(
                    sessionHash: hash, accountID: accountID, presented: claims.jti, next: next, storeGeneration: generation, until: until)
                {
                    outcome = try await guarded {
                        try await store.adoptRefresh(sessionHash: hash, accountID: accountID, expectedGeneration: generation, next: next, generation: adopted, now: now)
                    }
                } else {
                    outcome = .reused(accountID: accountID)
                }
            case .reused, .invalid:
                break
            }
        }
        switch outcome {
        case .rotated(let session):
            return try await issue(sessionID: claims.sid, refreshID: next, session: session, evicted: [], now: now)
        case .reused, .stale:
            try await recordRevoked([hash], accountID: accountID, now: now)
            _ = try await guarded { try await store.revoke(sessionHash: hash, accountID: accountID) }
            try await raise("refresh_token_reuse", rule: rules.refreshReuse, accountID: accountID, details: ["session": String(hash.prefix(12))], context: context)
            throw SessionError(.refreshTokenReused, "the refresh token was already used; the session has been revoked")
        case .invalid:
            throw SessionError.invalidToken
        }
    }

    /// Ends the caller's session and refuses its access token from now on.
    public func logout(_ caller: Authenticated, context: AuditContext) async throws {
        let now = now()
        try await recordRevoked([caller.sessionHash], accountID: caller.accountID, now: now)
        try await ledger?.recordRevokedToken(id: caller.tokenID, until: caller.tokenExpires)
        _ = try await guarded { try await store.revoke(sessionHash: caller.sessionHash, accountID: caller.accountID) }
        try await guarded { try await store.revokeToken(id: caller.tokenID, accountID: caller.accountID, until: caller.tokenExpires) }
        try await audit.append([context.event("session.revoked", subject: subject(caller.accountID), details: ["session": String(caller.sessionHash.prefix(12)), "reason": "logout"], at: now)])
    }

    /// Ends every session of the account, for good: sessions created before now can never come back.
    /// - Returns: How many were live.
    @discardableResult
    public func revokeAll(accountID: UUID, reason: String, context: AuditContext) async throws -> Int {
        let now = now()
        // The watermark covers every session the account has, whatever the clocks that dated them: a
        // session created just after an earlier watermark written by a node running ahead is dated after
        // that watermark (see the stores' `create`), so this node's own clock may be behind it. A
        // watermark below one of them would let a replay after a Redis rollback revive it (found by
        // scripts/chaos.sh: a clock step, then a rollback).
        let newest = try await guarded { try await store.sessions(accountID: accountID, now: now) }.map(\.created).max()
        let watermark = max(now, newest ?? now)
        try await ledger?.recordWatermark(accountID: accountID, at: watermark)
        let revoked = try await guarded { try await store.revokeAll(accountID: accountID, except: nil, watermark: watermark) }
        try await audit.append([context.event("session.revoked_all", subject: subject(accountID), details: ["count": String(revoked.count), "reason": reason], at: now)])
        return revoked.count
    }

    /// Ends every session of the account except `keeping` (after a password or MFA change).
    ///
    /// The sessions are recorded in the ledger before the store ends them, as ``revokeAll(accountID:reason:context:)``
    /// does, so none is ever gone from the store without being in the ledger. (A session created while
    /// this runs is ended too, and recorded right after.)
    @discardableResult
    public func revokeOthers(accountID: UUID, keeping sessionHash: String, reason: String, context: AuditContext) async throws -> Int {
        let now = now()
        let listed = try await guarded { try await store.sessions(accountID: accountID, now: now) }.map(\.idHash).filter { $0 != sessionHash }
        try await recordRevoked(listed, accountID: accountID, now: now)
        let revoked = try await guarded { try await store.revokeAll(accountID: accountID, except: sessionHash, watermark: nil) }
        try await recordRevoked(revoked.filter { !listed.contains($0) }, accountID: accountID, now: now)
        try await audit.append([context.event("session.revoked_others", subject: subject(accountID), details: ["count": String(revoked.count), "reason": reason], at: now)])
        return revoked.count
    }

    /// Ends one of the account's sessions. Another account's session is "not found".
    ///
    /// - Important: Ownership is checked before anything is written: a session hash that is not one of
    ///   the account's live or expired sessions in the store is "not found" and leaves the ledger alone (and
    ///   the ledger itself never lets a row change owner), so no caller can make the ledger forget another
    ///   account's revocation. The owner's revocation still reaches the ledger before the store.
    public func revoke(sessionHash: String, accountID: UUID, context: AuditContext) async throws {
        let now = now()
        guard let owned = try await guarded({ try await store.session(hash: sessionHash, accountID: accountID) }), owned.accountID == accountID else {
            throw SessionError(.notFound, "no such session")
        }
        try await recordRevoked([sessionHash], accountID: accountID, now: now)
        guard try await guarded({ try await store.revoke(sessionHash: sessionHash, accountID: accountID) }) else {
            throw SessionError(.notFound, "no such session")
        }
        try await audit.append([context.event("session.revoked", subject: subject(accountID), details: ["session": String(sessionHash.prefix(12)), "reason": "revoked"], at: now)])
    }

    // MARK: Reading

    public func sessions(accountID: UUID) async throws -> [SessionRecord] {
        try await guarded { try await store.sessions(accountID: accountID, now: now()) }
    }

    public func analytics(accountID: UUID) async throws -> Analytics {
        let live = try await sessions(accountID: accountID)
        let devices = try await guarded { try await activity.devices(accountID: accountID) }
        return Analytics(activeSessions: live.count, devices: devices, lastActivity: live.map(\.lastActivity).max())
    }

    /// Puts every revocation in the ledger back into the store (idempotent). Run at start and whenever
    /// the store may have lost or rolled back data.
    ///
    /// A watermark ends only the sessions created at or before it: a session started after a logout-all
    /// (or a reuse detection) survives every replay.
    @discardableResult
    public func replayRevocations() async throws -> ReplayReport? {
        guard let ledger else { return nil }
        let started = ContinuousClock.now
        let revocations = try await ledger.activeRevocations(now: now())
        let read = ContinuousClock.now
        // In bulk (one call): a request that met an un-replayed Redis waits for this.
        // Revoked access tokens are not replayed: the ledger has no account for them (a store keeps them
        // under their account), and every one was revoked with its session, which is replayed.
        try await guarded { try await store.replay(revocations) }
        let report = ReplayReport(
            sessions: revocations.sessions.count, watermarks: revocations.watermarks.count, reading: read - started, applying: ContinuousClock.now - read)
        let observer = replayObserver.withLock { $0 }
        observer?(report)
        return report
    }

    /// What one replay of the ledger put back, and how long it took.
    public struct ReplayReport: Sendable, Equatable {
        public let sessions: Int
        public let watermarks: Int
        /// Reading the ledger.
        public let reading: Duration
        /// Applying it to the store.
        public let applying: Duration
    }

    /// Calls `observer` after every replay (the server logs them: a replay is what a request held by the
    /// restart gate waits for).
    public func observeReplays(_ observer: @escaping @Sendable (ReplayReport) -> Void) {
        replayObserver.withLock { $0 = observer }
    }

    /// Replays the revocation ledger now, then again whenever the store's server has restarted (checked
    /// every `interval`), until the task is cancelled. A Redis restored from an older snapshot therefore
    /// holds revoked sessions for at most `interval` after it comes back. Store outages are waited out.
    public func runMaintenance(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            _ = try? await replayIfRestarted()
            try? await Task.sleep(for: interval)
        }
    }

    /// Replays the revocation ledger if the store's server is not the instance it was last replayed
    /// into (always, the first time). Returns whether it replayed.
    @discardableResult
    public func replayIfRestarted() async throws -> Bool {
        try await replaying.withLock {
            let instance = try await guarded { try await store.instanceID() }
            guard replayedInstance.withLock({ $0 }) != instance else {
                // Replayed already (this instance may just not be trusted by the store yet, at start).
                store.trustInstance(instance)
                return false
            }
            try await replayRevocations()
            replayedInstance.withLock { $0 = instance }
            store.trustInstance(instance)
            return true
        }
    }

    // MARK: Helpers

    /// Waits for the replay of the ledger into a new store instance, for at most ``replayWait``: a
    /// request never waits longer than that (it answers 503 instead), while the replay goes on for the
    /// requests after it. All waiters share one replay.
    private func awaitReplay() async throws {
        let replay = pendingReplay.withLock { pending in
            if let pending { return pending }
            let task = Task {
                defer { pendingReplay.withLock { $0 = nil } }
                return try await replayIfRestarted()
            }
            pending = task
            return task
        }
        // A race the request leaves as soon as the replay ends, the wait is over or the request is cancelled
        // (a task group would wait for both sides: awaiting a task's value does not end on cancellation).
        let race = FirstResult()
        let replayed = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.install(continuation)
                let timer = Task {
                    try? await Task.sleep(for: Self.replayWait)
                    race.finish(.success(false))
                }
                Task {
                    do {
                        _ = try await replay.value
                        race.finish(.success(true))
                    } catch {
                        race.finish(.failure(error))
                    }
                    timer.cancel()
                }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
        guard replayed else { throw SessionError(.unavailable, "the revocation ledger is still being replayed") }
    }

    /// How long a request waits for a replay before it answers 503 (the replay goes on without it).
    public static let replayWait: Duration = .seconds(3)

    private func issue(sessionID: String, refreshID: String, session: SessionRecord, evicted: [String], now: Date) async throws -> Issued {
        let access = try await tokens.issue(.access, accountID: session.accountID, sessionID: sessionID, tokenID: SessionID.make(), level: session.level, now: now)
        let refresh = try await tokens.issue(.refresh, accountID: session.accountID, sessionID: sessionID, tokenID: refreshID, level: session.level, now: now)
        let whole = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return Issued(
            accessToken: access, refreshToken: refresh, sessionID: sessionID, session: session,
            accessExpires: whole.addingTimeInterval(policy.accessTokenLifetime),
            refreshExpires: whole.addingTimeInterval(policy.refreshTokenLifetime), evicted: evicted)
    }

    private func raise(_ rule: String, rule settings: SuspicionRules.Rule, accountID: UUID, details: [String: String], context: AuditContext) async throws {
        let now = now()
        var facts = details
        facts["rule"] = rule
        facts["action"] = settings.action.rawValue
        try await audit.append([context.event("security.suspicious_activity", .denied, subject: subject(accountID), details: facts, at: now)])
        if settings.action == .revokeAllSessions {
            try await revokeAll(accountID: accountID, reason: "suspicious_activity:\(rule)", context: context)
        }
    }

    private func session(until now: Date) -> Date { now.addingTimeInterval(policy.refreshTokenLifetime) }

    /// Records revoked sessions of one account in the ledger (if any), under the per-account cap.
    private func recordRevoked(_ hashes: [String], accountID: UUID, now: Date) async throws {
        guard let ledger, !hashes.isEmpty else { return }
        try await ledger.recordRevokedSessions(hashes, accountID: accountID, at: now, until: session(until: now), limit: policy.maximumRevokedSessions)
    }

    private func subject(_ accountID: UUID) -> String { AuditSubject.account(accountID) }

    /// The current time in whole milliseconds, the precision stores keep.
    private func now() -> Date {
        StoredInstant(truncating: clock.now()).date
    }

    /// Runs a store operation, turning any failure that is not already a session error into
    /// ``SessionError/Code/unavailable``: the caller fails closed.
    private func guarded<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SessionError where error.code == .notReplayed {
            // The store's server restarted since the last replay: replay the ledger into it now (the
            // request waits for it), then ask once more. Until the replay is done nothing it says counts.
            do { try await awaitReplay() } catch { throw SessionError(.unavailable, "the session store is unavailable") }
            do {
                return try await body()
            } catch let error as SessionError where error.code != .notReplayed {
                throw error
            } catch {
                throw SessionError(.unavailable, "the session store is unavailable")
            }
        } catch let error as SessionError {
            throw error
        } catch {
            throw SessionError(.unavailable, "the session store is unavailable")
        }
    }
}

/// The first of several results, handed once to a continuation (installed before or after it arrives).
private final class FirstResult: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, any Error>?, result: Result<Bool, any Error>?, resumed: Bool)>((nil, nil, false))

    func install(_ continuation: CheckedContinuation<Bool, any Error>) {
        let ready = state.withLock { state -> Result<Bool, any Error>? in
            guard let result = state.result, !state.resumed else {
                state.continuation = continuation
                return nil
            }
            state.resumed = true
            return result
        }
        if let ready { continuation.resume(with: ready) }
    }

    func finish(_ result: Result<Bool, any Error>) {
        let waiting = state.withLock { state -> CheckedContinuation<Bool, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            guard let continuation = state.continuation, !state.resumed else { return nil }
            state.resumed = true
            return continuation
        }
        waiting?.resume(with: result)
    }
}
