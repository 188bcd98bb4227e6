public import Foundation
public import WardenAccess
import WardenCore
public import WardenMFA
import WardenSessions

extension AccountSecurity {
    /// A fresh proof of identity, sent with a sensitive change: the current password (accounts without
    /// MFA) or a code from a current factor (any account).
    public struct Reauthentication: Sendable {
        public var password: String?
        public var code: String?
        public var method: MFAService.Method?

        public init(password: String? = nil, code: String? = nil, method: MFAService.Method? = nil) {
            self.password = password
            self.code = code
            self.method = method
        }
    }

    /// Checks a proof of identity for a change to the caller's factors.
    ///
    /// - Important: A password-level access token alone never suffices (a stolen token must not be able to
    ///   take over the account's MFA): without MFA the current password is required, with MFA a current
    ///   factor's code — or a session whose second factor was completed within the recent-authentication
    ///   window (5 minutes by default).
    func reauthenticate(_ proof: Reauthentication, _ principal: Principal) async throws -> MFAProof {
        guard let account = try await callerAccount(principal) else { return MFAProof(lastMFA: clock.now()) }
        if let code = proof.code {
            try await mfa.verify(accountID: account.id, method: proof.method ?? .totp, code: code, context: principal.context)
            return MFAProof(lastMFA: clock.now())
        }
        // A second factor completed within the recent-authentication window counts as a current factor.
        if let session = principal.session, session.level.isMultiFactor,
            clock.now().timeIntervalSince(session.sessionCreated) <= mfa.policy.recentAuthentication
        {
            return MFAProof(lastMFA: session.sessionCreated)
        }
        let hasMFA = try await mfa.requiresSecondFactor(accountID: account.id)
        if let password = proof.password, !hasMFA {
            try await checkCurrentPassword(account, password, principal)
            return MFAProof.passwordOnly
        }
        try await refuse("mfa.change_refused", subject: account.subject, reason: "reauthentication_required", principal)
        throw AuthError(
            .reauthenticationRequired,
            hasMFA
                ? "send a code from one of your current factors (`code`, `method`) with this change"
                : "send your current password (`current_password`) with this change")
    }

    /// Starts a TOTP enrolment for the caller (proof of identity required).
    public func enrollTOTP(deviceName: String, proof: Reauthentication, _ principal: Principal) async throws -> MFAService.TOTPEnrollment {
        guard let account = try await callerAccount(principal) else { throw AuthError.unauthorized }
        let recent = try await reauthenticate(proof, principal)
        return try await mfa.enrollTOTP(accountID: account.id, accountName: account.username, deviceName: deviceName, proof: recent, context: principal.context)
    }

    /// Starts an SMS or email enrolment for the caller (proof of identity required); sends a code.
    public func enrollDestination(_ kind: MFAState.Factor.Kind, destination: String, name: String, proof: Reauthentication, _ principal: Principal) async throws -> UUID {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        let recent = try await reauthenticate(proof, principal)
        return try await mfa.enrollDestination(kind, destination: destination, accountID: account, name: name, proof: recent, context: principal.context)
    }

    /// A confirmed enrolment: the factor, its kind, and the methods that now complete a login.
    public struct ConfirmedFactor: Sendable {
        public let factorID: UUID
        public let kind: MFAState.Factor.Kind
        public let methods: [MFAService.Method]
    }

    /// Confirms an enrolment with a code from the new factor; every other session of the account ends.
    public func confirmFactor(_ factorID: UUID, code: String, _ principal: Principal) async throws -> ConfirmedFactor {
        try await WardenTracing.span("AccountSecurity.confirmFactor") { _ in
            guard let account = principal.accountID, let session = principal.session else { throw AuthError.unauthorized }
            try await mfa.confirm(accountID: account, factorID: factorID, code: code, context: principal.context)
            try await sessions.revokeOthers(accountID: account, keeping: session.sessionHash, reason: "mfa_changed", context: principal.context)
            let kind = try await mfa.factors(accountID: account).first { $0.id == factorID }?.kind ?? .totp
            return ConfirmedFactor(factorID: factorID, kind: kind, methods: try await mfa.methods(accountID: account))
        }
    }

    /// Confirms the caller's pending enrolment of `kind` (the latest, if several were started) — the
    /// original system's `{method, token}` form, which named no factor. Same rules as
    /// ``confirmFactor(_:code:_:)``.
    ///
    /// - Throws: ``AuthError/Code/invalidRequest`` when no enrolment of that kind is pending.
    public func confirmPendingFactor(_ kind: MFAState.Factor.Kind, code: String, _ principal: Principal) async throws -> ConfirmedFactor {
        guard let account = principal.accountID, principal.session != nil else { throw AuthError.unauthorized }
        let pending = try await mfa.factors(accountID: account).filter { $0.kind == kind && $0.confirmed == nil }.max { $0.created < $1.created }
        guard let pending else { throw AuthError(.invalidRequest, "no \(kind.rawValue) enrolment is pending; start one with POST /auth/mfa/setup") }
        return try await confirmFactor(pending.id, code: code, principal)
    }

    /// A new set of backup codes for the caller (proof of identity required).
    public func regenerateBackupCodes(proof: Reauthentication, _ principal: Principal) async throws -> [String] {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        let recent = try await reauthenticate(proof, principal)
        return try await mfa.generateBackupCodes(accountID: account, proof: recent, context: principal.context)
    }

    public func remainingBackupCodes(_ principal: Principal) async throws -> Int {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        return try await mfa.remainingBackupCodes(accountID: account)
    }

    /// Turns MFA off for the caller (proof of identity required); every other session ends.
    public func disableMFA(proof: Reauthentication, _ principal: Principal) async throws {
        try await WardenTracing.span("AccountSecurity.disableMFA") { _ in
            guard let account = principal.accountID, let session = principal.session else { throw AuthError.unauthorized }
            let recent = try await reauthenticate(proof, principal)
            try await mfa.disable(accountID: account, proof: recent, context: principal.context)
            try await sessions.revokeOthers(accountID: account, keeping: session.sessionHash, reason: "mfa_changed", context: principal.context)
        }
    }

    /// An administrator's MFA reset for another account (`accounts:manage` and every permission the
    /// account holds): factors, backup codes and locks go, and every session of the account ends.
    public func resetMFA(of target: Account, _ principal: Principal) async throws {
        try await requireAuthority("accounts:manage", over: target, principal, action: "mfa.reset_refused")
        try await mfa.disable(accountID: target.id, proof: MFAProof(lastMFA: clock.now()), context: principal.context)
        try await mfa.resetLockout(accountID: target.id, context: principal.context)
        _ = try await sessions.revokeAll(accountID: target.id, reason: "mfa_reset", context: principal.context)
    }

    /// Clears an account's MFA failure counters, lock and hard stop (`accounts:manage` over the account).
    public func clearMFALock(of target: Account, _ principal: Principal) async throws {
        try await requireAuthority("accounts:manage", over: target, principal, action: "mfa.lockout_reset_refused")
        try await mfa.resetLockout(accountID: target.id, context: principal.context)
    }
}
