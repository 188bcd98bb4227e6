import Crypto
public import Foundation
import QRCode
import WardenAudit
public import WardenCore
import WardenCrypto
import WardenWebAuthn

/// Login challenges: the second step of a password login, its codes, and the lockout they share.
extension MFAService {
    // MARK: Login

    /// After a correct password: a challenge naming the methods that can complete the login, or `nil` when
    /// the account has no MFA.
    public func beginChallenge(accountID: UUID, device: String, context: AuditContext) async throws -> LoginChallenge? {
        let now = clock.now()
        let secret = Base64.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }, alphabet: .url, padded: false)
        let token = Self.key(accountID) + "." + secret
        let expires = now.addingTimeInterval(policy.challengeLifetime)
        let hash = hasher.hash(secret, salt: Self.key(accountID), purpose: "challenge")
        let methods: [Method] = try await guarded {
            try await store.updateMFA(accountID: accountID) { [policy] state in
                guard state.hasMFA else { return MFAUpdate([]) }
                state.challenges.removeAll { $0.expires <= now }
                state.challenges.append(MFAState.Challenge(hash: hash, device: device, created: now, expires: expires))
                // A handful at a time is plenty; the oldest make way.
                if state.challenges.count > 5 { state.challenges.removeFirst(state.challenges.count - 5) }
                _ = policy
                return MFAUpdate(
                    Self.methods(state),
                    audit: [context.event("mfa.challenge_created", subject: Self.subject(accountID), details: ["methods": Self.methods(state).map(\.rawValue).joined(separator: ",")], at: now)])
            }
        }
        return methods.isEmpty ? nil : LoginChallenge(token: token, expires: expires, methods: methods)
    }

    /// Sends a login code by SMS or email for a challenge.
    public func sendChallengeCode(token: String, device: String, method: Method, context: AuditContext) async throws {
        guard method == .sms || method == .email, let (accountID, secret) = Self.parse(token) else { throw MFAError.invalidCode }
        let state = try await read(accountID)
        let now = clock.now()
        let hash = hasher.hash(secret, salt: Self.key(accountID), purpose: "challenge")
        guard state.challenges.contains(where: { $0.hash == hash && $0.device == device && $0.expires > now }) else { throw MFAError.invalidCode }
        let kind: MFAState.Factor.Kind = method == .sms ? .sms : .email
        guard let factor = state.confirmedFactors.first(where: { $0.kind == kind }) else { throw MFAError(.unavailableMethod, "no \(kind.rawValue) factor is set up") }
        let destination = String(decoding: try await cipher.openRefreshingKeyring(factor.sealedSecret, context: Self.sealContext(accountID, factor.id)).plaintext, as: UTF8.self)
        try await sendCode(to: factor, destination: destination, accountID: accountID, purpose: "sign in", context: context)
    }

    /// Completes a login challenge with any enrolled method. Returns the account, whose session may now be
    /// MFA-level. The challenge is used up on success; a wrong code counts as a failure.
    public func completeChallenge(token: String, device: String, method: Method, code: String, context: AuditContext) async throws -> UUID {
        guard let (accountID, secret) = Self.parse(token) else { throw MFAError.invalidCode }
        let hash = hasher.hash(secret, salt: Self.key(accountID), purpose: "challenge")
        // A forged or stale challenge names an account but proves nothing: it is charged to the source
        // address only, so nobody can spend another account's verification budget (and 429 its owner).
        let current = try await read(accountID)
        guard current.challenges.contains(where: { $0.hash == hash && $0.device == device && $0.expires > clock.now() }) else {
            if let address = context.sourceAddress,
                let retry = try await guarded({ try await policy.verificationsPerAddress.exceeded(key: "mfa.verify.address:" + address, in: limiter, now: clock.now()) })
            {
                throw MFAError(.rateLimited, "too many attempts from this address", retryAfter: retry)
            }
            throw MFAError.invalidCode
        }
        if method == .passkey {
            // The "code" is the assertion; its challenge is derived from this login challenge's secret.
            guard let relyingParty, let response = try? AssertionResponse(json: Array(code.utf8)) else { throw MFAError.invalidCode }
            let expected = Self.loginPasskeyChallenge(secret: secret)
            try await attempt(
                accountID: accountID, method: method, context: context,
                precondition: { state, now in
                    state.challenges.contains { $0.hash == hash && $0.device == device && $0.expires > now }
                }
            ) { state, now in
                let (ok, events) = Self.checkPasskey(
                    &state, response, challenge: expected, accountID: accountID, relyingParty: relyingParty, requireUserVerification: false, now: now, context: context)
                guard ok else { return (false, events) }
                state.challenges.removeAll { $0.hash == hash }
                return (true, events + [context.event("mfa.login_completed", subject: Self.subject(accountID), details: ["method": method.rawValue], at: now)])
            }
            return accountID
        }
        let generators = try await totpGenerators(accountID, includeUnconfirmed: false)
        try await attempt(
            accountID: accountID, method: method, context: context,
            precondition: { state, now in
                state.challenges.contains { $0.hash == hash && $0.device == device && $0.expires > now }
            }
        ) { [policy, hasher] state, now in
            guard Self.check(&state, method: method, code: code, generators: generators, now: now, policy: policy, hasher: hasher) else { return (false, []) }
            state.challenges.removeAll { $0.hash == hash }
            return (true, [context.event("mfa.login_completed", subject: Self.subject(accountID), details: ["method": method.rawValue], at: now)])
        }
        return accountID
    }

    /// Checks a code for an account directly (step-up authentication, or the single-call login form).
    public func verify(accountID: UUID, method: Method, code: String, context: AuditContext) async throws {
        let generators = try await totpGenerators(accountID, includeUnconfirmed: false)
        try await attempt(accountID: accountID, method: method, context: context) { [policy, hasher] state, now in
            (Self.check(&state, method: method, code: code, generators: generators, now: now, policy: policy, hasher: hasher), [])
        }
    }

    /// Sends a code to the account's SMS or email factor (for step-up or the single-call login form).
    public func sendCode(accountID: UUID, method: Method, context: AuditContext) async throws {
        guard method == .sms || method == .email else { throw MFAError(.invalidParameters, "only SMS and email codes are sent") }
        let kind: MFAState.Factor.Kind = method == .sms ? .sms : .email
        guard let factor = try await read(accountID).confirmedFactors.first(where: { $0.kind == kind }) else {
            throw MFAError(.unavailableMethod, "no \(kind.rawValue) factor is set up")
        }
        let destination = String(decoding: try await cipher.openRefreshingKeyring(factor.sealedSecret, context: Self.sealContext(accountID, factor.id)).plaintext, as: UTF8.self)
        try await sendCode(to: factor, destination: destination, accountID: accountID, purpose: "verify it is you", context: context)
    }

    /// Clears a lock or the hard stop (an administrator's recovery action).
    public func resetLockout(accountID: UUID, context: AuditContext) async throws {
        let now = clock.now()
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [policy] state in
                var lockout = MFALockout(state.failures, rules: MFALockout.Rules(policy))
                lockout.reset()
                state.failures = lockout.failures
                return MFAUpdate((), audit: [context.event("mfa.lockout_reset", subject: Self.subject(accountID), at: now)])
            }
        }
    }
}
