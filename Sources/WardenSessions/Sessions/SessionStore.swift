public import Foundation

/// Where sessions live: Redis in production, SQL in the embedded default, memory in tests. One test suite
/// runs against all three.
///
/// - Important: Every operation that checks or changes a session is atomic in the store (a Lua script, a
///   transaction, an actor), so concurrent logins cannot exceed the limit and a refresh token rotates once.
public protocol SessionStore: Sendable {
    /// Stores a new session, first making room under `limit` live sessions for its account.
    ///
    /// - Returns: The hashes of the sessions evicted to make room (evict-oldest).
    /// - Throws: ``SessionError/Code/limitReached`` when full and `whenFull` is deny-new.
    func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String]

    /// Checks, in one round trip, that the session exists, belongs to `accountID`, is active, was created
    /// after the account's revocation watermark, and that `tokenID` is not revoked; records the activity.
    /// Returns `nil` for any failure.
    func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord?

    /// ``validate(sessionHash:accountID:tokenID:now:)``, and in the same round trip the account's status as
    /// the store last heard it (``publishAccountStatus(accountID:active:onlyIfUnknown:)``) and, with
    /// `listing`, the account's live sessions (most recently active first). A session of an account
    /// known to be disabled is refused.
    func check(sessionHash: String, accountID: UUID, tokenID: String, now: Date, listing: Bool) async throws -> SessionCheck?

    /// Records the account's status where ``check(sessionHash:accountID:tokenID:now:listing:)`` reads it
    /// (the database stays the truth: the record expires, and a missing one sends the caller back to the
    /// database). With `onlyIfUnknown`, an existing record is left alone (a reader filling a miss must
    /// not overwrite a change written meanwhile).
    func publishAccountStatus(accountID: UUID, active: Bool, onlyIfUnknown: Bool) async throws

    /// The session `hash` if it belongs to `accountID`.
    func session(hash: String, accountID: UUID) async throws -> SessionRecord?
    /// The account's live sessions, most recently active first.
    func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord]

    /// Ends one session; returns whether it existed (and belonged to the account).
    func revoke(sessionHash: String, accountID: UUID) async throws -> Bool
    /// Ends every session of the account except `except`. With `watermark`, also records that sessions
    /// created up to then are revoked for good.
    func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String]
    /// Refuses the access token `tokenID` of `accountID` until `until` (its expiry).
    func revokeToken(id: String, accountID: UUID, until: Date) async throws

    /// Replaces the session's current refresh token id `presented` with `next`. A token that is not the
    /// current one was used before: the session is revoked and `.reused` returned.
    func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation

    /// Like ``rotateRefresh(sessionHash:accountID:presented:next:now:)``, but when `reportingStale` is set a
    /// token that is not the current one leaves the session alone and returns `.stale` with the store's
    /// rotation count, so the caller can ask the durable ledger whether the store is behind (restored from
    /// an older snapshot) before calling it reuse. Stores that cannot lose data answer `.reused` as usual.
    func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date, reportingStale: Bool) async throws -> RefreshRotation

    /// Makes `next` the session's refresh token, at rotation count `generation`, if the store's count is
    /// still `expectedGeneration` (the store was found behind the durable ledger). `.invalid` otherwise.
    func adoptRefresh(sessionHash: String, accountID: UUID, expectedGeneration: Int64, next: String, generation: Int64, now: Date) async throws -> RefreshRotation

    /// Raises the account's watermark to `at` and ends the sessions created at or before it — and only
    /// those: unlike ``revokeAll(accountID:except:watermark:)``, a session created later survives. This is
    /// how a replay puts a recorded watermark back.
    func applyWatermark(accountID: UUID, at: Date) async throws

    /// Puts a ledger's revocations back: every watermark as ``applyWatermark(accountID:at:)`` and every
    /// session as ``revoke(sessionHash:accountID:)`` would (idempotent, in any order). Throws unless all
    /// of them were applied. A store that talks to a server sends them in bulk, not one round trip each.
    func replay(_ revocations: Revocations) async throws

    /// Identifies the running instance of the store's server; it changes when the server restarts (and
    /// so may have come back empty or from an older snapshot). Stores that cannot lose data return a
    /// constant.
    func instanceID() async throws -> String

    /// Called once by a ``SessionService`` that has a revocation ledger: from then on, a store that can
    /// restart (Redis) refuses every session answer (``SessionError/Code/notReplayed``) from a server
    /// instance that ``trustInstance(_:)`` has not named, so a restart is noticed at the first command
    /// after it, not at the next maintenance check.
    func requireReplayedInstance()

    /// The ledger has been replayed into the server instance `id` (``instanceID()``): its answers count.
    func trustInstance(_ id: String)
}

extension SessionStore {
    public func replay(_ revocations: Revocations) async throws {
        for (accountID, at) in revocations.watermarks { try await applyWatermark(accountID: accountID, at: at) }
        for (hash, accountID) in revocations.sessions { _ = try await revoke(sessionHash: hash, accountID: accountID) }
    }

    public func instanceID() async throws -> String { "durable" }
    public func requireReplayedInstance() {}
    public func trustInstance(_ id: String) {}

    /// For stores that keep no account status: the check, then the listing (a second round trip).
    public func check(sessionHash: String, accountID: UUID, tokenID: String, now: Date, listing: Bool) async throws -> SessionCheck? {
        guard let session = try await validate(sessionHash: sessionHash, accountID: accountID, tokenID: tokenID, now: now) else { return nil }
        return SessionCheck(session: session, accountActive: nil, sessions: listing ? try await sessions(accountID: accountID, now: now) : nil)
    }

    /// Stores that keep no account status ignore it (their callers ask the database every time).
    public func publishAccountStatus(accountID: UUID, active: Bool, onlyIfUnknown: Bool) async throws {}

    /// Stores that keep no rotation count never report a stale token.
    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date, reportingStale: Bool) async throws -> RefreshRotation {
        try await rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now)
    }

    public func adoptRefresh(sessionHash: String, accountID: UUID, expectedGeneration: Int64, next: String, generation: Int64, now: Date) async throws -> RefreshRotation {
        .invalid
    }

    /// For stores without a time-aware revocation (test doubles): ends the listed sessions created up to
    /// the watermark, one by one; sessions created later are kept.
    public func applyWatermark(accountID: UUID, at: Date) async throws {
        for session in try await sessions(accountID: accountID, now: Date()) where session.created <= at {
            _ = try await revoke(sessionHash: session.idHash, accountID: accountID)
        }
    }
}

/// What one check of an access token's session found.
public struct SessionCheck: Sendable {
    /// The session, with its new last activity.
    public var session: SessionRecord
    /// Whether the account may use its sessions, as last written through to the store; `nil` when the
    /// store does not know (ask the database).
    public var accountActive: Bool?
    /// The account's live sessions, most recently active first, when asked for.
    public var sessions: [SessionRecord]?

    public init(session: SessionRecord, accountActive: Bool?, sessions: [SessionRecord]?) {
        self.session = session
        self.accountActive = accountActive
        self.sessions = sessions
    }
}

/// The outcome of presenting a refresh token.
public enum RefreshRotation: Sendable, Equatable {
    case rotated(SessionRecord)
    /// The token had been used already; the session has been revoked.
    case reused(accountID: UUID)
    /// No such live session.
    case invalid
    /// The token is not the current one, and the store was asked to report rather than revoke; its
    /// rotation count is `generation`.
    case stale(generation: Int64)
}

/// Login and device history for suspicious-activity rules.
public protocol ActivityStore: Sendable {
    /// Records a successful login and reports what is unusual about it.
    func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) async throws -> LoginActivity
    /// Records a failed login; returns the failures in the window.
    func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) async throws -> Int
    /// The devices the account has logged in from, most recent first.
    func devices(accountID: UUID) async throws -> [DeviceSighting]
}

/// What a login looked like against the account's history.
public struct LoginActivity: Sendable, Equatable {
    /// The device was never seen on this account, which had logged in from others before.
    public let isNewDevice: Bool
    /// Distinct addresses the account logged in from within the window, this one included.
    public let distinctAddresses: Int

    public init(isNewDevice: Bool, distinctAddresses: Int) {
        self.isNewDevice = isNewDevice
        self.distinctAddresses = distinctAddresses
    }
}

/// A device seen on an account.
public struct DeviceSighting: Sendable, Hashable {
    public let fingerprint: String
    public let userAgent: String
    public let firstSeen: Date
    public let lastSeen: Date

    public init(fingerprint: String, userAgent: String, firstSeen: Date, lastSeen: Date) {
        self.fingerprint = fingerprint
        self.userAgent = userAgent
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// Durable records of revocations (SQL), kept alongside a fast store (Redis) so that losing or restoring
/// the fast store can log people out but never bring a revoked session back: on start, and whenever the
/// fast store has been reset, the ledger is replayed into it.
public protocol RevocationLedger: Sendable {
    /// Records that `hashes`, sessions of `accountID` revoked at `at`, stay revoked until `until`.
    ///
    /// - Important: A row never changes owner: a hash already recorded for another account is left as it
    ///   is. When the account then has more than `limit` rows, the oldest are folded into its watermark
    ///   (raised to the newest folded revocation time), which keeps every folded session dead on replay.
    func recordRevokedSessions(_ hashes: [String], accountID: UUID, at: Date, until: Date, limit: Int) async throws
    func recordWatermark(accountID: UUID, at: Date) async throws
    func recordRevokedToken(id: String, until: Date) async throws
    /// Everything still in force at `now`.
    func activeRevocations(now: Date) async throws -> Revocations

    /// Records a refresh rotation the store has just made (`presented` → `next`, the store's rotation
    /// count now `generation`). Returns `false`, writing nothing, when the ledger knows a newer refresh
    /// token than `presented` for the session: the store was behind and `presented` had been used.
    /// The first rotation of a session recorded here creates its row.
    func recordRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, generation: Int64, until: Date) async throws -> Bool

    /// When the store reported `presented` as stale at rotation count `storeGeneration`: if the ledger's
    /// newest refresh token for the session is `presented` at a higher count, the store is behind (a
    /// restored snapshot); the ledger rotates to `next` and returns the new count. Otherwise `nil`: reuse.
    func adoptRefreshRotation(sessionHash: String, accountID: UUID, presented: String, next: String, storeGeneration: Int64, until: Date) async throws -> Int64?
}

extension RevocationLedger {
    /// Records revoked sessions now, with no limit on the account's rows.
    public func recordRevokedSessions(_ hashes: [String], accountID: UUID, until: Date) async throws {
        try await recordRevokedSessions(hashes, accountID: accountID, at: Date(), until: until, limit: .max)
    }
}

/// Revocations still in force.
public struct Revocations: Sendable, Equatable {
    public var sessions: [(hash: String, accountID: UUID)]
    public var watermarks: [(accountID: UUID, at: Date)]
    public var tokens: [(id: String, until: Date)]

    public init(sessions: [(hash: String, accountID: UUID)] = [], watermarks: [(accountID: UUID, at: Date)] = [], tokens: [(id: String, until: Date)] = []) {
        self.sessions = sessions
        self.watermarks = watermarks
        self.tokens = tokens
    }

    public static func == (lhs: Revocations, rhs: Revocations) -> Bool {
        lhs.sessions.map(\.hash) == rhs.sessions.map(\.hash) && lhs.tokens.map(\.id) == rhs.tokens.map(\.id)
            && lhs.watermarks.map(\.accountID) == rhs.watermarks.map(\.accountID)
    }
}
