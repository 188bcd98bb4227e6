import Foundation
public import WardenAccess
import WardenAudit
public import WardenCore
public import WardenMFA
public import WardenSessions

extension AccountSecurity {
    /// A password login, with or without the second factor in the same call.
    public struct LoginRequest: Sendable {
        public var username: String
        public var password: String
        public var device: Device
        /// A device token from an earlier login of this account (exempts the device from the password lock).
        public var deviceToken: String?
        /// The original system's single-call form: the code of a factor with the password.
        public var mfaCode: String?
        public var mfaMethod: MFAService.Method?

        public init(username: String, password: String, device: Device, deviceToken: String? = nil, mfaCode: String? = nil, mfaMethod: MFAService.Method? = nil) {
            self.username = username
            self.password = password
            self.device = device
            self.deviceToken = deviceToken
            self.mfaCode = mfaCode
            self.mfaMethod = mfaMethod
        }
    }

    /// A started session, and a device token for the next login from this device.
    public struct SignedIn: Sendable {
        public let issued: SessionService.Issued
        public let deviceToken: String
    }

    public enum LoginOutcome: Sendable {
        case signedIn(SignedIn)
        /// The password was right; a second factor must complete the login.
        case challenge(MFAService.LoginChallenge)
    }

    /// Logs in with a password: limits per name and source (and per device token), the account's
    /// password lock, the failed-login rule, then a session or an MFA challenge.
    ///
    /// - Throws: ``AccessError/invalidCredentials`` for every refusal of the credentials (same time, same
    ///   answer), ``AuthError/Code/rateLimited``, or the MFA errors of the single-call form.
    public func login(_ request: LoginRequest, context: AuditContext) async throws -> LoginOutcome {
        try await WardenTracing.span("AccountSecurity.login") { _ in
            // Counters are keyed by the name's keyed tag, never its text: what is typed as a username is
            // sometimes a password, and the counters live in Redis or the database.
            let usernameTag = accounts.usernameTag(request.username)
            try await limit(policy.loginPerSource, key: "login:" + usernameTag + ":" + SourceKey.of(context.sourceAddress))
            var trusted = false
            if let token = request.deviceToken, let nonce = DeviceToken.verify(token, usernameTag: usernameTag, cipher: cipher) {
                try await limit(policy.loginPerDeviceToken, key: "login.device:" + nonce)
                trusted = true
            }
            let account: Account
            switch try await accounts.checkPassword(username: request.username, password: request.password, trustedDevice: trusted, context: context) {
            case .accepted(let accepted):
                account = accepted
            case .refused(let accountID):
                if let accountID { try await sessions.recordFailedLogin(accountID: accountID, context: context) }
                throw AccessError.invalidCredentials
            }
            let methods = try await mfa.methods(accountID: account.id)
            if methods.isEmpty {
                if try await mfa.requiresSecondFactor(accountID: account.id) {
                    // MFA is on but no factor can complete it (the only passkey was blocked as a possible clone,
                    // no backup code is left): refused, never downgraded to the password alone.
                    try await audit.append([context.event("login.refused", .denied, subject: account.subject, details: ["reason": "no_usable_factor"], at: clock.now())])
                    throw AuthError(.forbidden, "this account's second factor is blocked; an administrator must reset two-step verification")
                }
                return .signedIn(try await signIn(account, device: request.device, level: .password, context: context))
            }
            if let code = request.mfaCode {
                try await mfa.verify(accountID: account.id, method: request.mfaMethod ?? .totp, code: code, context: context)
                return .signedIn(try await signIn(account, device: request.device, level: .multiFactor, context: context))
            }
            guard let challenge = try await mfa.beginChallenge(accountID: account.id, device: request.device.fingerprint, context: context) else {
                // The factors went away between the two reads; the next attempt signs in without MFA.
                throw AuthError(.conflict, "the account's sign-in methods changed; try again")
            }
            return .challenge(challenge)
        }
    }

    /// Completes a login challenge with a code of any enrolled factor.
    public func completeChallenge(token: String, method: MFAService.Method, code: String, device: Device, context: AuditContext) async throws -> SignedIn {
        try await WardenTracing.span("AccountSecurity.completeChallenge") { _ in
            let accountID = try await mfa.completeChallenge(token: token, device: device.fingerprint, method: method, code: code, context: context)
            guard let account = try await accounts.account(id: accountID), account.status != .disabled else { throw AccessError.invalidCredentials }
            return try await signIn(account, device: device, level: .multiFactor, context: context)
        }
    }

    /// Sends an SMS or email code for a login challenge.
    public func sendChallengeCode(token: String, method: MFAService.Method, device: Device, context: AuditContext) async throws {
        try await WardenTracing.span("AccountSecurity.sendChallengeCode") { _ in
            try await mfa.sendChallengeCode(token: token, device: device.fingerprint, method: method, context: context)
        }
    }

    func signIn(_ account: Account, device: Device, level: AuthenticationLevel, context: AuditContext) async throws -> SignedIn {
        let issued = try await sessions.start(accountID: account.id, device: device, level: level, context: context)
        return SignedIn(issued: issued, deviceToken: DeviceToken.issue(usernameTag: accounts.usernameTag(account.username), cipher: cipher))
    }

    // MARK: Tokens

    /// The principal behind an access token: its session is live and its account not disabled.
    ///
    /// One round trip to the session store answers both (the account's status is written through to it
    /// on every change, ``publishAccountStatus(_:)``); only when the store does not know the status (it
    /// expired, or the store restarted) is the database asked, and the answer filled in. With
    /// `listingSessions`, the same round trip brings back the account's live sessions, which
    /// ``ownSessions(_:)`` then answers from.
    ///
    /// - Throws: ``AuthError/unauthorized``; the session store's unavailability as is (never a success).
    public func authenticate(accessToken: String, context: AuditContext, listingSessions: Bool = false) async throws -> Principal {
        try await WardenTracing.span("AccountSecurity.authenticate") { _ in
            let checked: SessionService.Checked
            do {
                checked = try await sessions.check(accessToken: accessToken, listing: listingSessions)
            } catch let error as SessionError where error.code == .invalidToken {
                try? await recordRefusedToken(context)
                throw AuthError.unauthorized
            }
            let accountID = checked.authenticated.accountID
            if checked.accountActive == nil {
                let active = try await accounts.account(id: accountID).map { $0.status != .disabled } ?? false
                try await sessions.publishAccountStatus(accountID: accountID, active: active, onlyIfUnknown: true)
                guard active else { throw AuthError.unauthorized }
            } else if checked.accountActive != true {
                throw AuthError.unauthorized
            }
            var caller = context
            caller.actor = AuditSubject.account(accountID)
            var principal = Principal(kind: .account(accountID, checked.authenticated), context: caller)
            principal.prefetchedSessions = checked.sessions
            return principal
        }
    }

    /// Writes the account's status (from the database, which stays the truth) through to the session
    /// store, where every node's token check reads it at its next request.
    func publishAccountStatus(_ account: Account) async throws {
        try await sessions.publishAccountStatus(accountID: account.id, active: account.status != .disabled)
    }

    /// Exchanges a refresh token for new tokens; refused for a disabled (or deleted) account.
    public func refresh(refreshToken: String, context: AuditContext) async throws -> SessionService.Issued {
        try await WardenTracing.span("AccountSecurity.refresh") { _ in
            let claims: TokenClaims
            do {
                claims = try await tokens.verify(refreshToken, as: .refresh)
            } catch {
                try? await recordRefusedToken(context)
                throw error
            }
            guard let accountID = UUID(text: claims.sub), let account = try await accounts.account(id: accountID), account.status != .disabled else {
                throw AuthError.unauthorized
            }
            return try await sessions.refresh(refreshToken: refreshToken, context: context)
        }
    }

    /// One in `refusedTokenSampling` refused or forged tokens is recorded (a flood must not flood the log).
    private func recordRefusedToken(_ context: AuditContext) async throws {
        guard sampler.next(every: policy.refusedTokenSampling) else { return }
        try await audit.append([context.event("token.refused", .denied, details: ["sampled": "1/\(policy.refusedTokenSampling)"], at: clock.now())])
    }

    // MARK: Sessions

    /// Ends the caller's own session.
    public func logout(_ principal: Principal) async throws {
        try await WardenTracing.span("AccountSecurity.logout") { _ in
            guard let session = principal.session else { throw AuthError.unauthorized }
            try await sessions.logout(session, context: principal.context)
        }
    }

    /// Ends every session of the caller's account.
    public func logoutEverywhere(_ principal: Principal) async throws -> Int {
        try await WardenTracing.span("AccountSecurity.logoutEverywhere") { _ in
            guard let account = principal.accountID else { throw AuthError.unauthorized }
            return try await sessions.revokeAll(accountID: account, reason: "logout_all", context: principal.context)
        }
    }

    /// The caller's own live sessions.
    public func ownSessions(_ principal: Principal) async throws -> [SessionRecord] {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        if let prefetched = principal.prefetchedSessions { return prefetched }
        return try await sessions.sessions(accountID: account)
    }

    /// Ends one of the caller's own sessions; another account's session is "not found".
    public func revokeOwnSession(_ sessionHash: String, _ principal: Principal) async throws {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        guard sessionHash.utf8.count == 64, sessionHash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { throw AuthError.notFound }
        try await sessions.revoke(sessionHash: sessionHash, accountID: account, context: principal.context)
    }

    /// Another account's sessions and devices (`sessions:read`).
    public func accountSessions(_ target: Account, _ principal: Principal) async throws -> (sessions: [SessionRecord], analytics: SessionService.Analytics) {
        try await require("sessions:read", principal)
        return (try await sessions.sessions(accountID: target.id), try await sessions.analytics(accountID: target.id))
    }

    /// Ends every session of another account (`sessions:revoke`).
    public func revokeAccountSessions(_ target: Account, _ principal: Principal) async throws -> Int {
        try await require("sessions:revoke", principal)
        return try await sessions.revokeAll(accountID: target.id, reason: "admin", context: principal.context)
    }
}
