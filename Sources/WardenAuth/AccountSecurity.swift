import Foundation
import Synchronization
public import WardenAccess
public import WardenAudit
public import WardenCore
public import WardenCrypto
public import WardenMFA
public import WardenSessions

/// Warden's account use cases: every security rule between the domain services, in one place.
///
/// `WardenHTTP`'s routes and the `warden` commands are thin translations onto these functions: they
/// decode a request, call one use case with the ``Principal`` who asked, and encode the answer. Who may
/// grant which role, which changes end which sessions, when a change needs a fresh proof of identity,
/// what is rate-limited and what is audited are decided here and nowhere else (docs/access.md).
///
/// - Important: A rule added to a route or a command instead of here is a defect: the other surface
///   would not apply it.
public final class AccountSecurity: Sendable {
    /// The use cases' own policy (the services keep theirs: ``LoginPolicy``, `SessionPolicy`, `MFAPolicy`).
    public struct Policy: Sendable {
        /// Login attempts per username and source address (an IPv6 source counts by its /64; setting
        /// `WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE`).
        public var loginPerSource = RateLimit(limit: 10, window: 60)
        /// Login attempts per device token (a trusted device is exempt from the account-wide lock, not
        /// from this).
        public var loginPerDeviceToken = RateLimit(limit: 10, window: 15 * 60)
        /// Password checks per account when re-authenticating a sensitive change.
        public var reauthenticationPerAccount = RateLimit(limit: 10, window: 15 * 60)
        /// Decryption failures recorded in the audit log per minute (the rest are counted, not recorded).
        public var decryptionFailuresAuditedPerMinute = 30
        /// One refused or forged token in this many is recorded in the audit log.
        public var refusedTokenSampling = 100

        public init() {}
    }

    public let accounts: AccountService
    public let access: AccessService
    public let authorizer: Authorizer
    public let sessions: SessionService
    public let tokens: TokenService
    public let mfa: MFAService
    public let cipher: FieldCipher
    let limiter: any RateLimitStore
    let audit: any AuditAppender
    public let policy: Policy
    let clock: any WallClock
    let sampler = Sampler()
    /// Rotations in two phases when keys are shared by nodes; without it a rotation takes effect at once.
    let rollout: KeyRollout?

    public init(
        accounts: AccountService, access: AccessService, authorizer: Authorizer, sessions: SessionService, tokens: TokenService,
        mfa: MFAService, cipher: FieldCipher, limiter: any RateLimitStore, audit: any AuditAppender, policy: Policy = Policy(),
        rollout: KeyRollout? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.rollout = rollout
        self.accounts = accounts
        self.access = access
        self.authorizer = authorizer
        self.sessions = sessions
        self.tokens = tokens
        self.mfa = mfa
        self.cipher = cipher
        self.limiter = limiter
        self.audit = audit
        self.policy = policy
        self.clock = clock
    }

    // MARK: Authorization

    /// The calling account, read now (`nil` for the operator). A token's check reads no database, so the
    /// use cases that need more than the account's id (its roles, its username) read it here: an account
    /// deleted or disabled since the token was checked is refused.
    public func callerAccount(_ principal: Principal) async throws -> Account? {
        guard let id = principal.accountID else { return nil }
        guard let account = try await accounts.account(id: id), account.status != .disabled else { throw AuthError.unauthorized }
        return account
    }

    /// Throws ``AuthError/forbidden`` unless the principal holds `permission` now (the operator holds
    /// every permission).
    /// It reads the account's status and grants in one query, not the account itself (whose contact
    /// details would be opened for nothing).
    public func require(_ permission: String, _ principal: Principal) async throws {
        guard let held = try await heldPermissions(principal) else { return }
        guard let wanted = Permission(permission), held.contains(where: { $0.covers(wanted) }) else { throw AuthError.forbidden }
    }

    /// What the principal holds now: nil for the operator (who holds every permission); throws
    /// ``AuthError/unauthorized`` for an account that is gone or disabled (as ``callerAccount(_:)``).
    func heldPermissions(_ principal: Principal) async throws -> Set<Permission>? {
        guard let id = principal.accountID else { return nil }
        guard let held = try await authorizer.permissions(ofAccount: id) else { throw AuthError.unauthorized }
        return held
    }

    /// Whether the principal holds every permission in `permissions` (an account may only hand out, take
    /// away or act on what it holds itself).
    func holdsAll(_ permissions: Set<Permission>, _ principal: Principal) async throws -> Bool {
        guard let held = try await heldPermissions(principal) else { return true }
        return permissions.allSatisfy { needed in held.contains { $0.covers(needed) } }
    }

    /// The effective permissions of every unexpired grant of `account` (whatever its status).
    func grantedPermissions(of account: Account) async throws -> Set<Permission> {
        let now = clock.now()
        let roles = try await access.roles()
        return try await access.grants(of: account).filter { $0.isActive(at: now) }
            .reduce(into: Set<Permission>()) { $0.formUnion(roles.effectivePermissions(of: $1.role)) }
    }

    /// Throws ``AuthError/forbidden`` (and records the refusal) unless the principal may act on `target`:
    /// it needs `permission`, and an account acting on another needs every permission the target holds
    /// (an account administrator cannot reset a super administrator's password or disable them).
    func requireAuthority(_ permission: String, over target: Account, _ principal: Principal, action: String) async throws {
        try await require(permission, principal)
        guard principal.accountID != target.id else { return }
        guard try await holdsAll(try await grantedPermissions(of: target), principal) else {
            try await refuse(action, subject: target.subject, reason: "target_more_privileged", principal)
            throw AuthError(.forbidden, "the account holds permissions you do not; ask an administrator who holds them")
        }
    }

    /// Records a refused action (outcome `denied`) in the audit log.
    func refuse(_ action: String, subject: String?, reason: String, _ principal: Principal, details: [String: String] = [:]) async throws {
        var facts = details
        facts["reason"] = reason
        try await audit.append([principal.context.event(action, .denied, subject: subject, details: facts, at: clock.now())])
    }

    /// Counts an attempt against `limit`; throws ``AuthError/Code/rateLimited`` past it (and 503-worthy
    /// errors when the shared counters cannot be reached: never unlimited).
    func limit(_ limit: RateLimit, key: String) async throws {
        if let retry = try await limit.exceeded(key: key, in: limiter, now: clock.now()) {
            throw AuthError(.rateLimited, "too many attempts; slow down", retryAfter: retry)
        }
    }
}

/// Lets one event in `every` through, for sampling audit records of high-volume refusals.
final class Sampler: Sendable {
    private let counter = Counter()

    func next(every: Int) -> Bool {
        counter.increment() % max(1, every) == 1 || every <= 1
    }
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}
