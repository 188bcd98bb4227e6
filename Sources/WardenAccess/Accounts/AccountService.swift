public import Foundation
import Synchronization
import WardenAudit
public import WardenCore
public import WardenCrypto

/// Accounts and password logins.
///
/// Emails (when configured as sensitive, the default) and phone numbers are sealed with Warden's field
/// encryption, bound to their account and column (`accounts/<id>/email`). Every change and every login
/// attempt is recorded in the audit log, atomically with the change.
///
/// - Important: ``authenticate(username:password:context:)`` answers unknown users, wrong passwords,
///   disabled and locked accounts with the same error after the same amount of work: one password
///   verification at the current parameters.
///
/// - Important: When the hasher sheds load (``WardenCryptoError/busy``: its threads busy, its queue
///   full), every operation that hashes throws that error unchanged, having changed nothing: a login
///   refused for load is not a failed login (no count, no lock, no `login.failed`), and an unknown name is
///   refused the same way, since its stand-in verification waits in the same queue. The refusal is
///   audited as `password_hashing.shed` (one in ``Configuration/shedAuditSampling``), never with a name.
public final class AccountService: Sendable {
    public struct Configuration: Sendable {
        public var passwordPolicy = PasswordPolicy()
        public var loginPolicy = LoginPolicy()
        /// Seal email addresses at rest (default true). Phone numbers are always sealed.
        public var emailsAreSensitive = true
        /// One hash refused for load in this many is recorded in the audit log (a storm must not flood it).
        public var shedAuditSampling = 100
        public init() {}
    }

    let store: any AccountStore
    let hasher: PasswordHasher
    let cipher: FieldCipher
    let configuration: Configuration
    let clock: any WallClock
    private let sheds = Atomic<Int>(0)

    public init(store: any AccountStore, hasher: PasswordHasher, cipher: FieldCipher, configuration: Configuration = Configuration(), clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.hasher = hasher
        self.cipher = cipher
        self.configuration = configuration
        self.clock = clock
    }

    // MARK: Creating and changing

    /// Creates an account.
    ///
    /// - Parameters:
    ///   - password: The initial password (checked against the policy), or `nil` for none.
    ///   - legacyHash: Instead of a password, a hash imported from the original system.
    public func create(
        username rawUsername: String, password: String? = nil, legacyHash: PasswordHash? = nil,
        email: String? = nil, phone: String? = nil, context: AuditContext
    ) async throws -> Account {
        let (username, key) = try Username.normalize(rawUsername)
        try Contact.validate(email: email, phone: phone)
        var passwordHash = legacyHash?.string
        if let password {
            try configuration.passwordPolicy.check(password, username: username)
            passwordHash = try await shedding("account_create", context) { try await hasher.hash(password) }
        }
        let id = UUID()
        let now = now()
        let stored = StoredAccount(
            id: id, username: username, usernameKey: key,
            email: try await sealEmail(email, id: id), phone: try await seal(phone, id: id, column: "phone"),
            status: .active, passwordHash: passwordHash, failedLogins: 0, lockedUntil: nil, created: now, updated: now)
        var details = ["username": username]
        if legacyHash != nil { details["password"] = "imported legacy hash" }
        try await store.insert(stored, audit: [context.event("account.created", subject: subject(id), details: details, at: now)])
        return try await open(stored)
    }

    /// An account moved from another system (`warden migrate`).
    public struct Imported: Sendable {
        /// Chosen by the importer, so that importing again finds the account instead of a duplicate.
        public var id: UUID
        public var username: String
        public var passwordHash: PasswordHash?
        public var email: String?
        public var active: Bool
        /// When the other system created it.
        public var created: Date?
        /// Non-secret facts for the audit entry (e.g. the other system's id).
        public var details: [String: String]

        public init(id: UUID, username: String, passwordHash: PasswordHash?, email: String?, active: Bool, created: Date?, details: [String: String] = [:]) {
            self.id = id
            self.username = username
            self.passwordHash = passwordHash
            self.email = email
            self.active = active
            self.created = created
            self.details = details
        }
    }

    /// Creates an account moved from another system, with its password hash (verified in that system's
    /// format, rehashed with scrypt at the first successful login) and its status. Its email is checked
    /// like any other.
    ///
    /// - Throws: ``AccessError/Code/usernameTaken`` when another account has the username.
    public func importAccount(_ imported: Imported, context: AuditContext) async throws -> Account {
        let (username, key) = try Username.normalize(imported.username)
        try Contact.validate(email: imported.email, phone: nil)
        let now = now()
        let stored = StoredAccount(
            id: imported.id, username: username, usernameKey: key,
            email: try await sealEmail(imported.email, id: imported.id), phone: nil,
            status: imported.active ? .active : .disabled, passwordHash: imported.passwordHash?.string,
            failedLogins: 0, lockedUntil: nil, created: imported.created ?? now, updated: now)
        var details = imported.details
        details["username"] = username
        details["imported"] = "true"
        details["password"] = imported.passwordHash == nil ? "none" : "imported legacy hash"
        if !imported.active { details["status"] = "disabled" }
        try await store.insert(stored, audit: [context.event("account.imported", subject: subject(imported.id), details: details, at: now)])
        return try await open(stored)
    }

    /// Sets a new password (checked against the policy) and clears failed-login counts and any lock.
    ///
    /// - Important: This changes the password only. `WardenAuth`'s use cases end the account's sessions
    ///   with it; call those, not this, from a surface.
    public func setPassword(id: UUID, to password: String, context: AuditContext) async throws {
        guard let current = try await store.account(id: id) else { throw notFound() }
        try configuration.passwordPolicy.check(password, username: current.username)
        let hash = try await shedding("password_set", context) { try await hasher.hash(password) }
        let now = now()
        _ = try await store.update(id: id) { account in
            account.passwordHash = hash
            account.failedLogins = 0
            account.lockedUntil = nil
            account.updated = now
            return [context.event("password.changed", subject: account.subjectString, at: now)]
        }
    }

    /// Enables (also lifting a password lock) or disables an account.
    ///
    /// - Important: Disabling does not end sessions by itself; `WardenAuth`'s use cases do both.
    public func setStatus(id: UUID, to status: Account.Status, context: AuditContext) async throws -> Account {
        precondition(status != .locked, "password locks are set by failed logins, not by hand")
        let now = now()
        let stored = try await store.update(id: id) { account in
            let before = account.status
            account.status = status
            account.failedLogins = 0
            account.lockedUntil = nil
            account.updated = now
            return [
                context.event(
                    status == .active ? "account.enabled" : "account.disabled", subject: account.subjectString,
                    details: ["previous_status": before.rawValue], at: now)
            ]
        }
        return try await open(stored)
    }

    /// Lifts a password lock: clears the failure count and the lock (the status stays as it is).
    public func unlock(id: UUID, context: AuditContext) async throws -> Account {
        let now = now()
        let stored = try await store.update(id: id) { account in
            let failures = account.failedLogins
            account.failedLogins = 0
            account.lockedUntil = nil
            if account.status == .locked { account.status = .active }
            account.updated = now
            return [context.event("account.unlocked", subject: account.subjectString, details: ["failed_logins": String(failures)], at: now)]
        }
        return try await open(stored)
    }

    /// Deletes an account and its role grants.
    public func delete(id: UUID, context: AuditContext) async throws {
        guard let current = try await store.account(id: id) else { throw notFound() }
        let now = now()
        try await store.delete(id: id, audit: [context.event("account.deleted", subject: subject(id), details: ["username": current.username], at: now)])
    }

    // MARK: Reading

    public func account(id: UUID) async throws -> Account? {
        guard let stored = try await store.account(id: id) else { return nil }
        return try await open(stored)
    }

    public func account(username: String) async throws -> Account? {
        guard let (_, key) = try? Username.normalize(username) else { return nil }
        guard let stored = try await store.account(usernameKey: key) else { return nil }
        return try await open(stored)
    }

    public func accounts() async throws -> [Account] {
        var accounts: [Account] = []
        for stored in try await store.accounts() { accounts.append(try await open(stored)) }
        return accounts
    }

    // MARK: Logging in

    /// The audit log's stand-in for a username that matched no account: a keyed tag of its normalised
    /// form (of the text itself when it cannot be normalised). The text is never recorded, because what
    /// someone types into the username field is sometimes their password. `warden audit tag NAME`
    /// computes the tag for a name an operator is looking for.
    public func usernameTag(_ rawUsername: String) -> String {
        cipher.identifierTag("username:" + ((try? Username.normalize(rawUsername))?.key ?? rawUsername))
    }

    /// What a password check found.
    public enum PasswordCheck: Sendable {
        case accepted(Account)
        /// Refused (for any reason: the audit log records which); `accountID` names the account the name
        /// matched, if any.
        case refused(accountID: UUID?)
    }

    /// Checks a username and password; throws ``AccessError/invalidCredentials`` on any refusal.
    public func authenticate(username rawUsername: String, password: String, trustedDevice: Bool = false, context: AuditContext) async throws -> Account {
        guard case .accepted(let account) = try await checkPassword(username: rawUsername, password: password, trustedDevice: trustedDevice, context: context) else {
            throw AccessError.invalidCredentials
        }
        return account
    }

    /// Checks a username and password.
    ///
    /// On success the failed-login count and any lock are cleared and a hash in an old scheme or with old
    /// parameters is replaced by a current one. Every refusal — unknown user, wrong password, disabled
    /// account, active lock — takes one password verification's time and looks the same to the caller.
    ///
    /// The password lock (``LoginPolicy``) stops password logins only, never existing sessions: every
    /// `lockThreshold` consecutive failures lock for a period that doubles each time (15 minutes, 30, 60,
    /// … up to `maximumLockDuration`), attempts during a lock are refused unverified and do not count, the
    /// lock ends by itself, and at `failureCeiling` consecutive failures (NIST SP 800-63B's 100) password
    /// logins stop until an administrator unlocks the account or the owner logs in from a trusted device.
    /// A trusted device (one holding a device token from an earlier login) is exempt from the lock, so
    /// strangers' guesses can never lock the owner out.
    ///
    /// - Important: The final change re-reads the account in its transaction: an account disabled, or a
    ///   password changed, while the hash was being compared is refused.
    ///
    /// - Throws: ``WardenCryptoError/busy`` when the hasher sheds load, for every name alike (known,
    ///   unknown, locked), before anything is counted or recorded as a login; store errors.
    public func checkPassword(username rawUsername: String, password: String, trustedDevice: Bool = false, context: AuditContext) async throws -> PasswordCheck {
        let key = (try? Username.normalize(rawUsername))?.key
        guard let key, let stored = try await store.account(usernameKey: key), let hash = stored.passwordHash else {
            try await shedding("password_check", context) { try await hasher.verifyNothing() }
            let now = now()
            try await store.append([
                context.event(
                    "login.failed", .failure, subject: nil,
                    details: ["reason": "unknown_user", "username_tag": usernameTag(rawUsername)], at: now)
            ])
            return .refused(accountID: nil)
        }
        let policy = configuration.loginPolicy
        let before = now()
        if !trustedDevice, let lock = policy.lock(failures: stored.failedLogins, lockedUntil: stored.lockedUntil, now: before) {
            // Refused unverified (same time as a verification) and not counted: a lock cannot be extended
            // by guessing during it.
            try await shedding("password_check", context) { try await hasher.verifyNothing() }
            try await store.append([
                context.event(
                    "login.failed", .failure, subject: stored.subjectString, details: ["reason": lock], at: before)
            ])
            return .refused(accountID: stored.id)
        }
        let verification = try await shedding("password_check", context) { try await hasher.verify(password, against: hash) }
        let now = now()
        guard case .valid(let needsRehash) = verification, stored.status != .disabled else {
            let wrongPassword = verification == .invalid
            _ = try await store.update(id: stored.id) { account in
                var events = [
                    context.event(
                        "login.failed", .failure, subject: account.subjectString,
                        details: ["reason": account.status == .disabled ? "disabled" : "wrong_password"], at: now)
                ]
                if wrongPassword {
                    account.failedLogins += 1
                    if let until = policy.lockStart(failures: account.failedLogins, now: now) {
                        account.lockedUntil = until
                        events.append(
                            context.event(
                                "account.locked", .success, subject: account.subjectString,
                                details: ["failed_logins": String(account.failedLogins), "until": until.formatted(.iso8601)], at: now))
                    } else if account.failedLogins == policy.failureCeiling {
                        events.append(
                            context.event(
                                "account.password_logins_stopped", .success, subject: account.subjectString,
                                details: ["failed_logins": String(account.failedLogins)], at: now))
                    }
                    account.updated = now
                }
                return events
            }
            return .refused(accountID: stored.id)
        }
        let newHash = needsRehash ? try await rehash(password) : nil
        do {
            let updated = try await store.update(id: stored.id) { account in
                // Re-checked in the transaction: disabled or given a new password while we compared.
                guard account.status != .disabled, account.passwordHash == hash else { throw AccessError.invalidCredentials }
                var events = [context.event("login.succeeded", subject: account.subjectString, at: now)]
                account.failedLogins = 0
                account.lockedUntil = nil
                // Accounts locked by an earlier Warden carry the old status.
                if account.status == .locked { account.status = .active }
                if let newHash {
                    account.passwordHash = newHash
                    events.append(context.event("password.rehashed", subject: account.subjectString, at: now))
                }
                account.updated = now
                return events
            }
            return .accepted(try await open(updated))
        } catch let error as AccessError where error.code == .invalidCredentials {
            try await store.append([context.event("login.failed", .failure, subject: stored.subjectString, details: ["reason": "changed_during_check"], at: now)])
            return .refused(accountID: stored.id)
        }
    }

    // MARK: Helpers

    /// A new hash for a password that just verified, or `nil` when hashing sheds load: the login stands,
    /// and a later one rehashes.
    private func rehash(_ password: String) async throws -> String? {
        do {
            return try await hasher.hash(password)
        } catch let error as WardenCryptoError where error.code == .busy {
            return nil
        }
    }

    /// Runs `hashing`; a refusal for load is recorded (sampled, without a name or subject) and rethrown.
    private func shedding<T>(_ operation: String, _ context: AuditContext, _ hashing: () async throws -> T) async throws -> T {
        do {
            return try await hashing()
        } catch let error as WardenCryptoError where error.code == .busy {
            let every = max(1, configuration.shedAuditSampling)
            if sheds.add(1, ordering: .relaxed).oldValue % every == 0 {
                // Best effort: the caller's answer is the refusal whether or not the log takes the entry.
                try? await store.append([
                    context.event(
                        "password_hashing.shed", .denied, details: ["operation": operation, "sampled": "1/\(every)"], at: now())
                ])
            }
            throw error
        }
    }

    /// The current time in whole milliseconds, the precision stores keep.
    private func now() -> Date {
        StoredInstant(truncating: clock.now()).date
    }

    private func subject(_ id: UUID) -> String { AuditSubject.account(id) }

    private func notFound() -> AccessError { AccessError(.accountNotFound, "no such account") }

    private func sealEmail(_ email: String?, id: UUID) async throws -> String? {
        configuration.emailsAreSensitive ? try await seal(email, id: id, column: "email") : email
    }

    private func seal(_ value: String?, id: UUID, column: String) async throws -> String? {
        guard let value else { return nil }
        return try await cipher.seal(Data(value.utf8), context: Self.context(id: id, column: column)).text
    }

    static func context(id: UUID, column: String) -> String {
        "accounts/\(id.uuidString.lowercased())/\(column)"
    }

    private func open(_ stored: StoredAccount) async throws -> Account {
        func reveal(_ value: String?, _ column: String) async throws -> String? {
            guard let value else { return nil }
            // Plain emails cannot start with the envelope prefix: ':' is not allowed in them.
            guard value.hasPrefix(FieldEnvelope.textPrefix) else { return value }
            // Another node may have sealed it under a key version this one has not loaded yet.
            let opened = try await cipher.openRefreshingKeyring(value, context: Self.context(id: stored.id, column: column))
            return String(decoding: opened.plaintext, as: UTF8.self)
        }
        return Account(
            id: stored.id, username: stored.username, email: try await reveal(stored.email, "email"),
            phone: try await reveal(stored.phone, "phone"), status: stored.status, lockedUntil: stored.lockedUntil,
            created: stored.created, updated: stored.updated)
    }
}

extension StoredAccount {
    var subjectString: String { AuditSubject.account(id) }
}
