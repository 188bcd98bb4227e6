public import Foundation
public import WardenAccess
public import WardenAudit
public import WardenCore
public import WardenCrypto
import WardenMFA
import WardenSessions

extension AccountSecurity {
    /// Who may create accounts through self-registration.
    public enum Registration: Sendable, Equatable {
        /// Anyone.
        case open
        /// Anyone holding one of these invite codes.
        case invite([String])
        /// Only a principal with `accounts:manage`.
        case administrators
    }

    /// What a new account starts with.
    public struct NewAccount: Sendable {
        public var username: String
        public var password: String?
        public var legacyHash: PasswordHash?
        public var email: String?
        public var phone: String?

        public init(username: String, password: String? = nil, legacyHash: PasswordHash? = nil, email: String? = nil, phone: String? = nil) {
            self.username = username
            self.password = password
            self.legacyHash = legacyHash
            self.email = email
            self.phone = phone
        }
    }

    /// Self-registration under `rule`; `principal` is the caller when one authenticated (required for
    /// ``Registration/administrators``).
    public func register(_ new: NewAccount, rule: Registration, inviteCode: String?, principal: Principal?, context: AuditContext) async throws -> Account {
        try await WardenTracing.span("AccountSecurity.register") { _ in
            switch rule {
            case .open:
                break
            case .invite(let codes):
                let presented = inviteCode ?? ""
                guard codes.contains(where: { Self.constantTimeEqual($0, presented) }) else {
                    throw AuthError(.forbidden, "registration needs a valid invite code")
                }
            case .administrators:
                guard let principal else { throw AuthError.unauthorized }
                try await require("accounts:manage", principal)
                return try await accounts.create(username: new.username, password: new.password, email: new.email, phone: new.phone, context: principal.context)
            }
            guard new.legacyHash == nil else { throw AuthError(.invalidRequest, "only administrators import password hashes") }
            return try await accounts.create(username: new.username, password: new.password, email: new.email, phone: new.phone, context: context)
        }
    }

    /// Creates an account as an administrator (`accounts:manage`).
    public func createAccount(_ new: NewAccount, _ principal: Principal) async throws -> Account {
        try await require("accounts:manage", principal)
        return try await accounts.create(
            username: new.username, password: new.password, legacyHash: new.legacyHash, email: new.email, phone: new.phone, context: principal.context)
    }

    // MARK: Reading

    /// An account by id, for a principal with `accounts:read`; the read of its personal data is audited.
    public func readAccount(id: UUID, _ principal: Principal) async throws -> (account: Account, grants: [Grant]) {
        try await require("accounts:read", principal)
        let account = try await target(id: id)
        try await audit.append([principal.context.event("account.read", subject: account.subject, details: ["fields": "email,phone,roles"], at: clock.now())])
        return (account, try await access.grants(of: account))
    }

    /// Resolves an account named by an administrator (`nil`: 404).
    public func target(id: UUID) async throws -> Account {
        guard let account = try await accounts.account(id: id) else { throw AuthError.notFound }
        return account
    }

    public func target(username: String) async throws -> Account {
        guard let account = try await accounts.account(username: username) else { throw AccessError(.accountNotFound, "no such account") }
        return account
    }

    // MARK: Passwords

    /// Changes the caller's own password: the current one is required, every other session of the
    /// account ends (the caller's stays).
    public func changeOwnPassword(current: String, new: String, _ principal: Principal) async throws -> Int {
        try await WardenTracing.span("AccountSecurity.changeOwnPassword") { _ in
            guard let account = try await callerAccount(principal), let session = principal.session else { throw AuthError.unauthorized }
            try await checkCurrentPassword(account, current, principal)
            try await accounts.setPassword(id: account.id, to: new, context: principal.context)
            return try await sessions.revokeOthers(accountID: account.id, keeping: session.sessionHash, reason: "password_changed", context: principal.context)
        }
    }

    /// Sets another account's password (an administrator's reset, or the command line): every session of
    /// the account ends. Needs `accounts:manage` and every permission the account holds.
    public func resetPassword(of target: Account, to password: String, _ principal: Principal) async throws -> Int {
        try await requireAuthority("accounts:manage", over: target, principal, action: "password.reset_refused")
        try await accounts.setPassword(id: target.id, to: password, context: principal.context)
        return try await sessions.revokeAll(accountID: target.id, reason: "password_reset", context: principal.context)
    }

    /// Checks the caller's current password (limited per account; failures count towards the lock).
    func checkCurrentPassword(_ account: Account, _ password: String, _ principal: Principal) async throws {
        try await limit(policy.reauthenticationPerAccount, key: "reauth:" + account.id.lowercasedText)
        // A session holder is not subject to the lock strangers' guesses may have set.
        guard case .accepted = try await accounts.checkPassword(username: account.username, password: password, trustedDevice: true, context: principal.context) else {
            throw AuthError(.reauthenticationRequired, "the current password is not correct")
        }
    }

    // MARK: Status

    /// Disables an account: it can no longer log in, and every session ends now. Sessions it had never
    /// come back, even when it is enabled again.
    public func disable(_ target: Account, _ principal: Principal) async throws -> (account: Account, sessionsRevoked: Int) {
        try await requireAuthority("accounts:manage", over: target, principal, action: "account.disable_refused")
        guard principal.accountID != target.id else {
            try await refuse("account.disable_refused", subject: target.subject, reason: "self", principal)
            throw AuthError(.forbidden, "an account cannot disable itself; ask another administrator")
        }
        try await requireAnotherSuperAdmin(besides: target, principal, action: "account.disable_refused")
        let updated = try await accounts.setStatus(id: target.id, to: .disabled, context: principal.context)
        let revoked = try await sessions.revokeAll(accountID: target.id, reason: "account_disabled", context: principal.context)
        try await publishAccountStatus(updated)
        return (updated, revoked)
    }

    /// Enables an account (and lifts a password lock). Sessions ended when it was disabled stay ended.
    public func enable(_ target: Account, _ principal: Principal) async throws -> Account {
        try await requireAuthority("accounts:manage", over: target, principal, action: "account.enable_refused")
        let updated = try await accounts.setStatus(id: target.id, to: .active, context: principal.context)
        try await publishAccountStatus(updated)
        return updated
    }

    /// Lifts the password lock and the MFA lock (or hard stop) of an account.
    public func unlock(_ target: Account, _ principal: Principal) async throws -> Account {
        try await requireAuthority("accounts:manage", over: target, principal, action: "account.unlock_refused")
        let updated = try await accounts.unlock(id: target.id, context: principal.context)
        try await mfa.resetLockout(accountID: target.id, context: principal.context)
        return updated
    }

    /// Deletes an account and its grants; its sessions end first.
    public func delete(_ target: Account, _ principal: Principal) async throws {
        try await requireAuthority("accounts:manage", over: target, principal, action: "account.delete_refused")
        try await requireAnotherSuperAdmin(besides: target, principal, action: "account.delete_refused")
        _ = try await sessions.revokeAll(accountID: target.id, reason: "account_deleted", context: principal.context)
        try await accounts.delete(id: target.id, context: principal.context)
        try await sessions.publishAccountStatus(accountID: target.id, active: false)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension AccountSecurity {
    /// The newest audit entries (`audit:read`).
    /// Accounts whose username contains `query` (case-insensitive; all when empty), at most `limit`, with
    /// the roles each holds (`accounts:read`).
    public func searchAccounts(_ query: String, limit: Int, _ principal: Principal) async throws -> [(Account, [String])] {
        try await require("accounts:read", principal)
        let needle = query.lowercased()
        let matches = try await accounts.accounts().filter { needle.isEmpty || $0.username.lowercased().contains(needle) }
            .sorted { $0.username < $1.username }.prefix(limit)
        var found: [(Account, [String])] = []
        for account in matches {
            found.append((account, try await access.grants(of: account).map(\.role).sorted()))
        }
        return found
    }

    public func auditLog(limit: Int, reader: any AuditLogReader, _ principal: Principal) async throws -> [AuditEntry] {
        try await require("audit:read", principal)
        return try await reader.latest(limit: limit)
    }
}
