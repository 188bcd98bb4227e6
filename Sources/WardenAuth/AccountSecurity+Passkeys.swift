public import Foundation
import WardenAccess
import WardenAudit
public import WardenCore
public import WardenMFA
public import WardenSessions

/// Passkeys: registering, naming and removing them (the caller's own, with proof of identity as for any
/// factor), a passkey completing a password login (``completeChallenge(token:method:code:device:context:)``
/// with ``MFAService/Method/passkey``), and passwordless sign-in.
extension AccountSecurity {
    /// A ceremony to hand to the browser: the token to send back, and the options for
    /// `navigator.credentials.create` or `.get` (WebAuthn's JSON forms).
    public struct PasskeyCeremony: @unchecked Sendable {
        public let token: String
        public let options: [String: Any]
    }

    /// Starts registering a passkey for the caller.
    public func beginPasskeyRegistration(_ principal: Principal) async throws -> PasskeyCeremony {
        guard let account = try await callerAccount(principal) else { throw AuthError.unauthorized }
        let (token, options) = try await mfa.beginPasskeyRegistration(accountID: account.id, userName: account.username)
        return PasskeyCeremony(token: token, options: options)
    }

    /// Registers the passkey the browser created (proof of identity required, as for any new factor);
    /// the account's other sessions end, as when any factor is added.
    public func registerPasskey(token: String, credential: [UInt8], name: String, proof: Reauthentication, _ principal: Principal) async throws -> MFAState.Passkey {
        guard let account = principal.accountID, let session = principal.session else { throw AuthError.unauthorized }
        let recent = try await reauthenticate(proof, principal)
        let passkey: MFAState.Passkey
        do {
            passkey = try await mfa.finishPasskeyRegistration(accountID: account, token: token, credential: credential, name: name, proof: recent, context: principal.context)
        } catch let error as MFAError where error.code == .invalidParameters || error.code == .invalidCode {
            try await refuse("mfa.passkey_refused", subject: AuditSubject.account(account), reason: error.message, principal)
            throw error
        }
        try await sessions.revokeOthers(accountID: account, keeping: session.sessionHash, reason: "mfa_changed", context: principal.context)
        return passkey
    }

    /// The caller's passkeys.
    public func ownPasskeys(_ principal: Principal) async throws -> [MFAState.Passkey] {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        return try await mfa.passkeys(accountID: account)
    }

    public func renamePasskey(_ id: UUID, to name: String, _ principal: Principal) async throws {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        try await mfa.renamePasskey(accountID: account, passkeyID: id, name: name, context: principal.context)
    }

    /// Removes one of the caller's passkeys (proof of identity required).
    public func removePasskey(_ id: UUID, proof: Reauthentication, _ principal: Principal) async throws {
        guard let account = principal.accountID else { throw AuthError.unauthorized }
        let recent = try await reauthenticate(proof, principal)
        try await mfa.removePasskey(accountID: account, passkeyID: id, proof: recent, context: principal.context)
    }

    /// The options that let a passkey complete a password login's challenge (`nil` when the account has
    /// no usable passkey or the challenge is not valid).
    public func passkeyChallengeOptions(token: String, device: Device) async throws -> [String: Any]? {
        try await mfa.passkeyOptions(challengeToken: token, device: device.fingerprint)
    }

    /// Starts a passwordless sign-in.
    public func beginPasskeySignIn() throws -> PasskeyCeremony {
        let (token, options) = try mfa.beginPasskeySignIn()
        return PasskeyCeremony(token: token, options: options)
    }

    /// Signs in with a passkey alone: the passkey must verify its user (PIN or biometric), and the account
    /// must be enabled. The session's level is ``AuthenticationLevel/passkey``.
    ///
    /// - Throws: ``AccessError/invalidCredentials`` for every refusal (unknown, disabled or deleted account,
    ///   a passkey that does not verify), the same answer for each; rate limits and MFA locks as such.
    public func signInWithPasskey(token: String, credential: [UInt8], device: Device, context: AuditContext) async throws -> SignedIn {
        try await WardenTracing.span("AccountSecurity.signInWithPasskey") { _ in
            try await limit(policy.loginPerSource, key: "login.passkey:" + SourceKey.of(context.sourceAddress))
            let accountID: UUID
            do {
                accountID = try await mfa.finishPasskeySignIn(token: token, credential: credential, context: context)
            } catch let error as MFAError where error.code == .invalidCode {
                throw AccessError.invalidCredentials
            }
            guard let account = try await accounts.account(id: accountID), account.status != .disabled else {
                try await audit.append([context.event("login.passkey", .denied, subject: AuditSubject.account(accountID), details: ["reason": "account_disabled"], at: clock.now())])
                throw AccessError.invalidCredentials
            }
            return try await signIn(account, device: device, level: .passkey, context: context)
        }
    }
}
