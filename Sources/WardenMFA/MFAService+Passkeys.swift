import Crypto
public import Foundation
import WardenAudit
public import WardenCore
import WardenWebAuthn

/// Passkeys (WebAuthn): registration, use as a second factor after the password, and passwordless
/// sign-in.
///
/// Challenges are single use and expire. A login challenge's passkey challenge is derived from the login
/// challenge's own secret (used up with it). Registration and passwordless sign-in get a **ceremony
/// token**: `base64url(purpose ‖ account ‖ challenge ‖ expiry)` and a keyed hash of it, so any node can
/// check it without a store; it is used up by claiming its hash in the shared rate-limit store, so a
/// replayed ceremony fails on every node.
extension MFAService {
    /// What a ceremony token is for.
    public enum Ceremony: UInt8, Sendable {
        case registration = 1
        case signIn = 2
    }

    /// Ceremony tokens and their challenges live this long.
    public static let ceremonyLifetime: TimeInterval = 300

    public func passkeys(accountID: UUID) async throws -> [MFAState.Passkey] {
        try await guarded { try await store.mfaState(accountID: accountID) }?.passkeys ?? []
    }

    // MARK: Ceremony tokens

    func ceremonyToken(_ purpose: Ceremony, accountID: UUID?, now: Date) -> (token: String, challenge: [UInt8]) {
        let challenge = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let expiry = UInt64(now.addingTimeInterval(Self.ceremonyLifetime).timeIntervalSince1970)
        let account = accountID.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? [UInt8](repeating: 0, count: 16)
        let body = [purpose.rawValue] + account + challenge + (0..<8).map { UInt8(truncatingIfNeeded: expiry >> (56 - 8 * $0)) }
        let text = Base64.encode(body, alphabet: .url, padded: false)
        return (text + "." + hasher.hash(text, salt: "webauthn", purpose: "ceremony"), challenge)
    }

    /// Checks a ceremony token and uses it up; returns its challenge.
    func redeemCeremony(_ token: String, _ purpose: Ceremony, accountID: UUID?, now: Date) async throws -> [UInt8] {
        let invalid = MFAError(.invalidCode, "the passkey ceremony is not valid or has expired; start again")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 256, parts.count == 2, hasher.matches(String(parts[0]), salt: "webauthn", purpose: "ceremony", hash: String(parts[1])),
            let body = Base64.decode(parts[0], alphabet: .url, padding: .forbidden), body.count == 57, body[0] == purpose.rawValue
        else { throw invalid }
        let account = accountID.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? [UInt8](repeating: 0, count: 16)
        guard Array(body[1..<17]) == account else { throw invalid }
        let expiry = body[49..<57].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard Double(expiry) > now.timeIntervalSince1970 else { throw invalid }
        let claimed = try await guarded {
            try await RateLimit(limit: 1, window: Self.ceremonyLifetime + 60).exceeded(key: "webauthn.ceremony:" + String(parts[1].prefix(32)), in: limiter, now: now)
        }
        guard claimed == nil else { throw invalid }
        return Array(body[17..<49])
    }

    static func userHandle(_ accountID: UUID) -> [UInt8] { withUnsafeBytes(of: accountID.uuid) { Array($0) } }

    static func account(userHandle: [UInt8]) -> UUID? {
        guard userHandle.count == 16 else { return nil }
        return UUID(
            uuid: (
                userHandle[0], userHandle[1], userHandle[2], userHandle[3], userHandle[4], userHandle[5], userHandle[6], userHandle[7],
                userHandle[8], userHandle[9], userHandle[10], userHandle[11], userHandle[12], userHandle[13], userHandle[14], userHandle[15]
            ))
    }

    /// The passkey challenge of a login challenge (derived from its secret, so it is used up with it).
    static func loginPasskeyChallenge(secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(("warden/webauthn/login-challenge/v1\u{0}" + secret).utf8)))
    }

    func requireRelyingParty() throws(MFAError) -> RelyingParty {
        guard let relyingParty else { throw MFAError(.unavailableMethod, "passkeys are not configured on this server") }
        return relyingParty
    }

    // MARK: Registration

    /// Starts registering a passkey for the account: a ceremony token and the options for
    /// `navigator.credentials.create` (a discoverable credential, so it can sign in without a username).
    public func beginPasskeyRegistration(accountID: UUID, userName: String) async throws -> (token: String, options: [String: Any]) {
        let relyingParty = try requireRelyingParty()
        let existing = try await passkeys(accountID: accountID).compactMap { Base64.decode($0.credentialID, alphabet: .url, padding: .forbidden) }
        let (token, challenge) = ceremonyToken(.registration, accountID: accountID, now: clock.now())
        let options = relyingParty.creationOptions(
            challenge: challenge, userID: Self.userHandle(accountID), userName: userName, displayName: userName, exclude: existing,
            residentKey: "required", userVerification: "preferred")
        return (token, options)
    }

    /// Finishes a registration: the ceremony token (single use), the browser's credential, and a name.
    /// Needs a recent MFA-level authentication once the account has MFA.
    public func finishPasskeyRegistration(
        accountID: UUID, token: String, credential json: [UInt8], name: String, proof: MFAProof, context: AuditContext
    ) async throws -> MFAState.Passkey {
        let relyingParty = try requireRelyingParty()
        let name = try Self.validName(name)
        let now = clock.now()
        let challenge = try await redeemCeremony(token, .registration, accountID: accountID, now: now)
        let credential: NewCredential
        switch Self.registration(relyingParty, json, challenge) {
        case .success(let verified): credential = verified
        case .failure(let error): throw MFAError(.invalidParameters, "the passkey was not accepted: \(error.message)")
        }
        let passkey = MFAState.Passkey(
            id: UUID(), name: name, credentialID: Base64.encode(credential.credentialID, alphabet: .url, padded: false),
            publicKey: Base64.encode(credential.publicKey.bytes, alphabet: .url, padded: false), algorithm: credential.publicKey.algorithm.rawValue,
            signCount: credential.signCount, aaguid: Hex.encode(credential.aaguid), attestationFormat: credential.attestationFormat,
            transports: Array(credential.transports.prefix(8).map { String($0.prefix(32)) }), backupEligible: credential.backupEligible,
            backedUp: credential.backedUp, created: now, lastUsed: nil, flagged: nil)
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                try requireRecent(state, proof, now: now)
                guard state.passkeys.count < 10 else { throw MFAError(.invalidParameters, "an account can have at most 10 passkeys") }
                guard !state.passkeys.contains(where: { $0.credentialID == passkey.credentialID }) else {
                    throw MFAError(.invalidParameters, "this passkey is already registered")
                }
                state.passkeys.append(passkey)
                return MFAUpdate(
                    (),
                    audit: [
                        context.event(
                            "mfa.passkey_registered", subject: Self.subject(accountID),
                            details: [
                                "passkey": passkey.id.uuidString.lowercased(), "aaguid": passkey.aaguid, "format": passkey.attestationFormat,
                                "algorithm": String(passkey.algorithm), "backup_eligible": String(passkey.backupEligible),
                            ], at: now)
                    ])
            }
        }
        await notifier?.notify(accountID: accountID, subject: "A passkey was added", body: "A passkey named \(name) was added to your account. If this was not you, contact your administrator.")
        return passkey
    }

    static func registration(_ relyingParty: RelyingParty, _ json: [UInt8], _ challenge: [UInt8]) -> Result<NewCredential, WebAuthnError> {
        do {
            let response = try RegistrationResponse(json: json)
            return .success(try relyingParty.verifyRegistration(response, challenge: challenge, requireUserVerification: false))
        } catch {
            return .failure(error)
        }
    }

    public func renamePasskey(accountID: UUID, passkeyID: UUID, name: String, context: AuditContext) async throws {
        let name = try Self.validName(name)
        let now = clock.now()
        try await guarded {
            try await store.updateMFA(accountID: accountID) { state in
                guard let index = state.passkeys.firstIndex(where: { $0.id == passkeyID }) else { throw MFAError(.notFound, "no such passkey") }
                state.passkeys[index].name = name
                return MFAUpdate((), audit: [context.event("mfa.passkey_renamed", subject: Self.subject(accountID), details: ["passkey": passkeyID.uuidString.lowercased()], at: now)])
            }
        }
    }

    /// Removes a passkey (recent MFA-level authentication required, as for any factor).
    public func removePasskey(accountID: UUID, passkeyID: UUID, proof: MFAProof, context: AuditContext) async throws {
        let now = clock.now()
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                try requireRecent(state, proof, now: now)
                guard let index = state.passkeys.firstIndex(where: { $0.id == passkeyID }) else { throw MFAError(.notFound, "no such passkey") }
                state.passkeys.remove(at: index)
                if !state.hasMFA {
                    state.backupCodes = []
                    state.backupCodesGenerated = nil
                    state.challenges = []
                }
                return MFAUpdate((), audit: [context.event("mfa.passkey_removed", subject: Self.subject(accountID), details: ["passkey": passkeyID.uuidString.lowercased()], at: now)])
            }
        }
        await notifier?.notify(accountID: accountID, subject: "A passkey was removed", body: "A passkey was removed from your account. If this was not you, contact your administrator.")
    }

    // MARK: Sign-in

    /// The options for `navigator.credentials.get` that complete a login challenge with a passkey
    /// (the account's usable passkeys allowed), or `nil` when the challenge is not valid or the account
    /// has none.
    public func passkeyOptions(challengeToken: String, device: String) async throws -> [String: Any]? {
        guard let relyingParty, let (accountID, secret) = Self.parse(challengeToken) else { return nil }
        let state = try await guarded { try await store.mfaState(accountID: accountID) } ?? MFAState()
        let hash = hasher.hash(secret, salt: Self.key(accountID), purpose: "challenge")
        let now = clock.now()
        guard state.challenges.contains(where: { $0.hash == hash && $0.device == device && $0.expires > now }) else { return nil }
        let allowed = state.passkeys.filter(\.isUsable).compactMap { Base64.decode($0.credentialID, alphabet: .url, padding: .forbidden) }
        guard !allowed.isEmpty else { return nil }
        return relyingParty.requestOptions(challenge: Self.loginPasskeyChallenge(secret: secret), allow: allowed, userVerification: "preferred")
    }

    /// Starts a passwordless sign-in: a ceremony token and the options for `navigator.credentials.get`
    /// (no credentials listed: the authenticator offers its discoverable ones; user verification required).
    public func beginPasskeySignIn() throws -> (token: String, options: [String: Any]) {
        let relyingParty = try requireRelyingParty()
        let (token, challenge) = ceremonyToken(.signIn, accountID: nil, now: clock.now())
        return (token, relyingParty.requestOptions(challenge: challenge, allow: [], userVerification: "required"))
    }

    /// Finishes a passwordless sign-in; returns the account whose passkey signed (named by the user
    /// handle). The passkey must be usable and verify the user; its counter must advance.
    ///
    /// - Throws: ``MFAError/invalidCode`` for every refusal of the credential (the same answer whether or
    ///   not the account exists), ``MFAError/Code/locked``, ``MFAError/Code/rateLimited``.
    public func finishPasskeySignIn(token: String, credential json: [UInt8], context: AuditContext) async throws -> UUID {
        let relyingParty = try requireRelyingParty()
        let now = clock.now()
        let refused = MFAError(.invalidCode, "the passkey was not accepted")
        if let address = context.sourceAddress,
            let retry = try await guarded({ try await policy.verificationsPerAddress.exceeded(key: "mfa.verify.address:" + address, in: limiter, now: now) })
        {
            throw MFAError(.rateLimited, "too many attempts from this address", retryAfter: retry)
        }
        let challenge = try await redeemCeremony(token, .signIn, accountID: nil, now: now)
        guard let response = try? AssertionResponse(json: json), let accountID = response.userHandle.flatMap(Self.account(userHandle:)) else { throw refused }
        guard let current = try await guarded({ try await store.mfaState(accountID: accountID) }),
            current.passkeys.contains(where: { $0.isUsable && $0.credentialID == Base64.encode(response.credentialID, alphabet: .url, padded: false) })
        else { throw refused }
        enum Outcome: Sendable {
            case success, failure
            case locked(Date)
            case stopped
        }
        let outcome: Outcome = try await guarded {
            try await store.updateMFA(accountID: accountID) { [policy] state in
                let subject = Self.subject(accountID)
                switch MFALockout(state.failures, rules: MFALockout.Rules(policy)).admit(at: now) {
                case .proceed: break
                case .stopped: return MFAUpdate(.stopped, audit: [context.event("mfa.passkey_sign_in", .denied, subject: subject, details: ["reason": "stopped"], at: now)])
                case .locked(let until):
                    return MFAUpdate(.locked(until), audit: [context.event("mfa.passkey_sign_in", .denied, subject: subject, details: ["reason": "locked"], at: now)])
                }
                // Failures are not counted against the account: nobody can guess a signature, and
                // counting them would let anyone lock an account by naming its user handle.
                let (ok, events) = Self.checkPasskey(
                    &state, response, challenge: challenge, accountID: accountID, relyingParty: relyingParty, requireUserVerification: true, now: now, context: context)
                return MFAUpdate(ok ? .success : .failure, audit: events + [context.event("mfa.passkey_sign_in", ok ? .success : .failure, subject: subject, at: now)])
            }
        }
        switch outcome {
        case .success: return accountID
        case .failure: throw refused
        case .locked(let until): throw MFAError(.locked, "too many failed attempts; try again later", retryAfter: max(1, until.timeIntervalSince(now).rounded(.up)))
        case .stopped: throw MFAError(.locked, "too many failed attempts; an administrator must reset two-step verification")
        }
    }

    /// Verifies an assertion against the matching usable passkey of `state`, and records its use: the new
    /// counter and backup state, or — when the counter went backwards — the passkey flagged (it signs in
    /// no more) and the event audited.
    static func checkPasskey(
        _ state: inout MFAState, _ response: AssertionResponse, challenge: [UInt8], accountID: UUID, relyingParty: RelyingParty,
        requireUserVerification: Bool, now: Date, context: AuditContext
    ) -> (Bool, [AuditEvent]) {
        let credentialID = Base64.encode(response.credentialID, alphabet: .url, padded: false)
        guard let index = state.passkeys.firstIndex(where: { $0.isUsable && $0.credentialID == credentialID }),
            let publicKey = Base64.decode(state.passkeys[index].publicKey, alphabet: .url, padding: .forbidden)
        else { return (false, []) }
        let passkey = state.passkeys[index]
        let stored = StoredCredential(credentialID: response.credentialID, publicKey: publicKey, signCount: passkey.signCount, userHandle: userHandle(accountID))
        let outcome: AssertionOutcome
        switch assertion(relyingParty, response, challenge, stored, requireUserVerification) {
        case .success(let verified): outcome = verified
        case .failure(let error):
            return (
                false, [context.event("mfa.passkey_refused", .failure, subject: subject(accountID), details: ["passkey": passkey.id.uuidString.lowercased(), "reason": error.code.rawValue], at: now)]
            )
        }
        if outcome.counterRegressed {
            state.passkeys[index].flagged = now
            return (
                false,
                [
                    context.event(
                        "mfa.passkey_counter_regressed", .denied, subject: subject(accountID),
                        details: [
                            "passkey": passkey.id.uuidString.lowercased(), "stored": String(passkey.signCount), "presented": String(outcome.signCount),
                        ], at: now)
                ]
            )
        }
        state.passkeys[index].signCount = outcome.signCount
        state.passkeys[index].backedUp = outcome.backedUp
        state.passkeys[index].lastUsed = now
        return (true, [])
    }

    static func assertion(
        _ relyingParty: RelyingParty, _ response: AssertionResponse, _ challenge: [UInt8], _ stored: StoredCredential, _ requireUserVerification: Bool
    ) -> Result<AssertionOutcome, WebAuthnError> {
        do {
            return .success(try relyingParty.verifyAssertion(response, challenge: challenge, credential: stored, requireUserVerification: requireUserVerification))
        } catch {
            return .failure(error)
        }
    }
}
