public import Foundation
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
public final class AccountService: Sendable {
    public struct Configuration: Sendable {
        public var passwordPolicy = PasswordPolicy()
        public var loginPolicy = LoginPolicy()
        /// Seal email addresses at rest (default true). Phone numbers are always sealed.
        public var emailsAreSensitive = true
        public init() {}
    }

    let store: any AccountStore
    let hasher: PasswordHasher
    let cipher: FieldCipher
    let configuration: Configuration
    let clock: any WallClock

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
            passwordHash = try await hasher.hash(password)
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

    /// Sets a new password (checked against the policy) and clears failed-login counts.
    public func setPassword(id: UUID, to password: String, context: AuditContext) async throws {
        guard let current = try await store.account(id: id) else { throw notFound() }
        try configuration.passwordPolicy.check(password, username: current.username)
        let hash = try await hasher.hash(password)
        let now = now()
        _ = try await store.update(id: id) { account in
            account.passwordHash = hash
            account.failedLogins = 0
            account.updated = now
            return [context.event("password.changed", subject: account.subjectString, at: now)]
        }
    }

    /// Enables (also lifting a lock) or disables an account.
    public func setStatus(id: UUID, to status: Account.Status, context: AuditContext) async throws -> Account {
        precondition(status != .locked, "accounts are locked by failed logins, not by hand")
        let now = now()
        let stored = try await store.update(id: id) { account in
            let before = account.status
            account.status = status
            account.failedLogins = 0
            account.lockedUntil = nil
            account.updated = now
            return [context.event(
                status == .active ? "account.enabled" : "account.disabled", subject: account.subjectString,
                details: ["previous_status": before.rawValue], at: now)]
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

    /// Checks a username and password.
    ///
    /// On success the failed-login count is cleared and a hash in an old scheme or with old parameters is
    /// replaced by a current one. On failure the count grows and, at the threshold, the account locks.
    ///
    /// - Throws: ``AccessError/invalidCredentials`` for every kind of failure; the audit log records
    ///   which.
    public func authenticate(username rawUsername: String, password: String, context: AuditContext) async throws -> Account {
        let key = (try? Username.normalize(rawUsername))?.key
        guard let key, let stored = try await store.account(usernameKey: key), let hash = stored.passwordHash else {
            await hasher.verifyNothing()
            let now = now()
            try await store.append([context.event(
                "login.failed", .failure, subject: nil,
                details: ["reason": "unknown_user", "username_tag": usernameTag(rawUsername)], at: now)])
            throw AccessError.invalidCredentials
        }
        let verification = await hasher.verify(password, against: hash)
        let now = now()
        let lockActive = stored.status == .locked && (stored.lockedUntil.map { $0 > now } ?? true)
        let refusal: String? = switch (stored.status, lockActive) {
        case (.disabled, _): "disabled"
        case (.locked, true): "locked"
        default: nil
        }
        guard case .valid(let needsRehash) = verification, refusal == nil else {
            let wrongPassword = verification == .invalid
            let policy = configuration.loginPolicy
            _ = try await store.update(id: stored.id) { account in
                var events = [context.event(
                    "login.failed", .failure, subject: account.subjectString,
                    details: ["reason": refusal ?? "wrong_password"], at: now)]
                if wrongPassword {
                    account.failedLogins += 1
                    let lockExpired = account.status == .locked && !(account.lockedUntil.map { $0 > now } ?? true)
                    if account.failedLogins >= policy.lockThreshold, account.status == .active || lockExpired {
                        account.status = .locked
                        account.lockedUntil = now.addingTimeInterval(policy.lockDuration)
                        events.append(context.event(
                            "account.locked", .success, subject: account.subjectString,
                            details: ["failed_logins": String(account.failedLogins)], at: now))
                    }
                    account.updated = now
                }
                return events
            }
            throw AccessError.invalidCredentials
        }
        let newHash = needsRehash ? try await hasher.hash(password) : nil
        let updated = try await store.update(id: stored.id) { account in
            var events = [context.event("login.succeeded", subject: account.subjectString, at: now)]
            account.failedLogins = 0
            if account.status == .locked {
                account.status = .active
                account.lockedUntil = nil
            }
            if let newHash, account.passwordHash == hash {
                account.passwordHash = newHash
                events.append(context.event("password.rehashed", subject: account.subjectString, at: now))
            }
            account.updated = now
            return events
        }
        return try await open(updated)
    }

    // MARK: Helpers

    /// The current time in whole milliseconds, the precision stores keep.
    private func now() -> Date {
        Date(timeIntervalSince1970: (clock.now().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    private func subject(_ id: UUID) -> String { "account:\(id.uuidString.lowercased())" }

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
    var subjectString: String { "account:\(id.uuidString.lowercased())" }
}
