public import Crypto
public import Foundation
import QRCode
import WardenAudit
public import WardenCore
public import WardenCrypto
public import WardenWebAuthn

/// Sends codes by SMS or email (`WardenDelivery.DeliveryMessenger` connects it to real senders).
public protocol MFAMessenger: Sendable {
    /// Delivers `body` to `destination` (a phone number in E.164 form, or an email address). Throws when
    /// the message was not accepted by the provider or server.
    func deliver(_ channel: MFAState.Factor.Kind, to destination: String, subject: String, body: String) async throws
}

/// Tells an account's owner about changes to their factors (by email where an address is known).
public protocol MFANotifier: Sendable {
    func notify(accountID: UUID, subject: String, body: String) async
}

/// Proof of a recent authentication, for sensitive changes: when the caller last completed MFA.
public struct MFAProof: Sendable {
    public let lastMFA: Date?

    public init(lastMFA: Date?) {
        self.lastMFA = lastMFA
    }

    public static let passwordOnly = MFAProof(lastMFA: nil)
}

/// Second factors: TOTP devices, SMS and email codes, backup codes; login challenges; lockout.
///
/// Every check is one atomic change of the account's ``MFAState`` in the shared store, so a TOTP step, a
/// backup code or a sent code is accepted at most once across every node, and failure counters are
/// exact. Failures of every factor count towards one lock: 5 consecutive failures lock MFA for 5 minutes
/// (doubling with each lock), 100 stop it until ``resetLockout(accountID:context:)``; requesting a new
/// code or switching factors does not reset them — only a success does. ``MFALockout`` holds these rules.
public final class MFAService: Sendable {
    public enum Method: String, Sendable, Codable, CaseIterable {
        case totp, sms, email
        case backupCode = "backup_code"
        /// A passkey (WebAuthn): the "code" is the assertion, as `PublicKeyCredential.toJSON()` writes it.
        case passkey
    }

    public struct TOTPEnrollment: Sendable {
        public let factorID: UUID
        /// The secret in base32, for typing into an app by hand. Shown once.
        public let secret: String
        public let uri: String
        public let expires: Date

        /// The URI as a QR code (error correction M, 4-module quiet zone): a PNG.
        public func qrPNG(moduleSize: Int = 6) throws -> [UInt8] {
            try QRCode(text: uri, errorCorrection: .medium).png(moduleSize: moduleSize, quietZone: 4)
        }

        /// The URI as a QR code: an SVG document.
        public func qrSVG(moduleSize: Int = 6) throws -> String {
            try QRCode(text: uri, errorCorrection: .medium).svg(moduleSize: moduleSize, quietZone: 4)
        }
    }

    public struct FactorSummary: Sendable, Equatable {
        public let id: UUID
        public let kind: MFAState.Factor.Kind
        public let name: String
        public let created: Date
        public let confirmed: Date?
        public let lastUsed: Date?
    }

    public struct LoginChallenge: Sendable, Equatable {
        /// Opaque, single use; bound to the account and the device.
        public let token: String
        public let expires: Date
        public let methods: [Method]
    }

    let store: any MFAStore
    let cipher: FieldCipher
    let hasher: SecretHasher
    let limiter: any RateLimitStore
    let messenger: (any MFAMessenger)?
    let notifier: (any MFANotifier)?
    public let policy: MFAPolicy
    let clock: any WallClock
    /// Where passkeys are registered and used (`nil`: passkeys are off).
    public let relyingParty: RelyingParty?

    /// - Parameter hashKey: The key for hashing codes and challenge tokens (``MasterKey/secretHashKey``).
    public init(
        store: any MFAStore, cipher: FieldCipher, hashKey: SymmetricKey, limiter: any RateLimitStore,
        messenger: (any MFAMessenger)? = nil, notifier: (any MFANotifier)? = nil, policy: MFAPolicy = MFAPolicy(),
        clock: any WallClock = SystemWallClock(), relyingParty: RelyingParty? = nil
    ) throws(MFAError) {
        self.relyingParty = relyingParty
        self.store = store
        self.cipher = cipher
        hasher = SecretHasher(key: hashKey)
        self.limiter = limiter
        self.messenger = messenger
        self.notifier = notifier
        self.policy = try policy.validated()
        self.clock = clock
    }

    // MARK: Reading

    public func factors(accountID: UUID) async throws -> [FactorSummary] {
        let state = try await read(accountID)
        let now = clock.now()
        return state.factors.filter { $0.isConfirmed || ($0.enrollmentExpires ?? now) > now }.map {
            FactorSummary(id: $0.id, kind: $0.kind, name: $0.name, created: $0.created, confirmed: $0.confirmed, lastUsed: $0.lastUsed)
        }
    }

    /// The methods that can complete a login for the account (empty: no MFA).
    public func methods(accountID: UUID) async throws -> [Method] {
        Self.methods(try await read(accountID))
    }

    /// Whether a login needs a second factor. True also when none is usable (the only passkey is
    /// blocked, no backup code is left): such a login is refused, never let through on the password.
    public func requiresSecondFactor(accountID: UUID) async throws -> Bool {
        try await read(accountID).hasMFA
    }

    public func remainingBackupCodes(accountID: UUID) async throws -> Int {
        try await read(accountID).remainingBackupCodes
    }

    // MARK: Enrolment

    /// Starts a TOTP enrolment: a new secret, its `otpauth://` URI (render it with `QRCode`). The device
    /// becomes usable after ``confirm(accountID:factorID:code:context:)`` with a code from it.
    public func enrollTOTP(accountID: UUID, accountName: String, deviceName: String, proof: MFAProof, context: AuditContext) async throws -> TOTPEnrollment {
        let name = try Self.validName(deviceName)
        let now = clock.now()
        try requireRecent(try await read(accountID), proof, now: now)
        let secret = SymmetricKey(size: .init(bitCount: policy.totpSecretBytes * 8)).withUnsafeBytes { Array($0) }
        let factorID = UUID()
        let sealed = try await cipher.seal(secret, context: Self.sealContext(accountID, factorID)).text
        let expires = now.addingTimeInterval(policy.enrollmentLifetime)
        let factor = MFAState.Factor(
            id: factorID, kind: .totp, name: name, created: now, confirmed: nil, enrollmentExpires: expires, sealedSecret: sealed,
            algorithm: policy.totpAlgorithm, digits: policy.totpDigits, period: policy.totpPeriod, lastStep: nil, lastUsed: nil)
        try await add(factor, accountID: accountID, proof: proof, now: now, context: context)
        let uri = OTPAuthURI.totp(
            secret: secret, issuer: policy.issuer, account: accountName, algorithm: policy.totpAlgorithm, digits: policy.totpDigits, period: policy.totpPeriod)
        return TOTPEnrollment(factorID: factorID, secret: Base32.encode(secret), uri: uri, expires: expires)
    }

    /// Starts an SMS or email enrolment and sends a code to the destination; the factor becomes usable
    /// after ``confirm(accountID:factorID:code:context:)`` with that code.
    public func enrollDestination(
        _ kind: MFAState.Factor.Kind, destination: String, accountID: UUID, name: String, proof: MFAProof, context: AuditContext
    ) async throws -> UUID {
        guard kind != .totp else { throw MFAError(.invalidParameters, "use enrollTOTP for authenticator apps") }
        let destination = try Self.validDestination(kind, destination)
        let name = try Self.validName(name)
        guard messenger != nil else { throw MFAError(.unavailableMethod, "no \(kind.rawValue) sender is configured") }
        let now = clock.now()
        try requireRecent(try await read(accountID), proof, now: now)
        let factorID = UUID()
        let sealed = try await cipher.seal(Array(destination.utf8), context: Self.sealContext(accountID, factorID)).text
        let factor = MFAState.Factor(
            id: factorID, kind: kind, name: name, created: now, confirmed: nil, enrollmentExpires: now.addingTimeInterval(policy.enrollmentLifetime),
            sealedSecret: sealed, algorithm: nil, digits: nil, period: nil, lastStep: nil, lastUsed: nil)
        try await add(factor, accountID: accountID, proof: proof, now: now, context: context)
        try await sendCode(to: factor, destination: destination, accountID: accountID, purpose: "confirm your \(kind == .sms ? "phone" : "email address")", context: context)
        return factorID
    }

    /// Confirms an enrolment with a code from the new factor.
    public func confirm(accountID: UUID, factorID: UUID, code: String, context: AuditContext) async throws {
        let generators = try await totpGenerators(accountID, includeUnconfirmed: true)
        try await attempt(accountID: accountID, method: nil, context: context) { [policy, hasher] state, now in
            guard let index = state.factors.firstIndex(where: { $0.id == factorID && !$0.isConfirmed && ($0.enrollmentExpires ?? .distantPast) > now }) else {
                return (false, [])
            }
            let factor = state.factors[index]
            let matched: Bool
            switch factor.kind {
            case .totp:
                guard let step = generators[factorID]?.match(code, at: now, window: policy.totpWindow, after: factor.lastStep) else { return (false, []) }
                state.factors[index].lastStep = step
                matched = true
            case .sms, .email:
                matched = Self.consumePendingCode(&state, code: code, factorIDs: [factorID], now: now, policy: policy, hasher: hasher)
            }
            guard matched else { return (false, []) }
            state.factors[index].confirmed = now
            state.factors[index].enrollmentExpires = nil
            state.factors[index].lastUsed = now
            return (true, [context.event("mfa.factor_confirmed", subject: Self.subject(accountID), details: ["factor": factorID.uuidString.lowercased(), "kind": factor.kind.rawValue], at: now)])
        }
        await notifier?.notify(accountID: accountID, subject: "A sign-in method was added", body: "A new second factor was added to your account. If this was not you, contact your administrator.")
    }

    /// Removes one factor (recent MFA required).
    public func removeFactor(accountID: UUID, factorID: UUID, proof: MFAProof, context: AuditContext) async throws {
        let now = clock.now()
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                try requireRecent(state, proof, now: now)
                guard let factor = state.factors.first(where: { $0.id == factorID }) else { throw MFAError(.notFound, "no such factor") }
                state.factors.removeAll { $0.id == factorID }
                state.pendingCodes.removeAll { $0.factorID == factorID }
                if !state.hasMFA { Self.clearAll(&state) }
                return MFAUpdate(
                    (), audit: [context.event("mfa.factor_removed", subject: Self.subject(accountID), details: ["factor": factorID.uuidString.lowercased(), "kind": factor.kind.rawValue], at: now)])
            }
        }
        await notifier?.notify(accountID: accountID, subject: "A sign-in method was removed", body: "A second factor was removed from your account. If this was not you, contact your administrator.")
    }

    /// Turns MFA off for the account: every factor, backup code, pending code and challenge goes (recent
    /// MFA required).
    public func disable(accountID: UUID, proof: MFAProof, context: AuditContext) async throws {
        let now = clock.now()
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                try requireRecent(state, proof, now: now)
                state.factors = []
                state.passkeys = []
                Self.clearAll(&state)
                return MFAUpdate((), audit: [context.event("mfa.disabled", subject: Self.subject(accountID), at: now)])
            }
        }
        await notifier?.notify(
            accountID: accountID, subject: "Two-step verification was turned off", body: "Two-step verification was turned off for your account. If this was not you, contact your administrator.")
    }

    // MARK: Backup codes

    /// A new set of backup codes, replacing (voiding) any earlier set. Shown once: only keyed hashes are
    /// kept. Needs a confirmed factor and, when MFA is on, a recent MFA-level authentication.
    public func generateBackupCodes(accountID: UUID, proof: MFAProof, context: AuditContext) async throws -> [String] {
        let now = clock.now()
        let codes = (0..<policy.backupCodeCount).map { _ in BackupCodes.make(length: policy.backupCodeLength) }
        let stored = codes.map { code -> MFAState.BackupCode in
            let salt = SecretHasher.salt()
            return MFAState.BackupCode(salt: salt, hash: hasher.hash(BackupCodes.normalize(code), salt: salt, purpose: "backup"), used: nil)
        }
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                guard state.hasMFA else { throw MFAError(.unavailableMethod, "set up an authenticator, phone or email first") }
                try requireRecent(state, proof, now: now)
                let replaced = state.backupCodes.count
                state.backupCodes = stored
                state.backupCodesGenerated = now
                return MFAUpdate(
                    (), audit: [context.event("mfa.backup_codes_generated", subject: Self.subject(accountID), details: ["count": String(stored.count), "replaced": String(replaced)], at: now)])
            }
        }
        await notifier?.notify(accountID: accountID, subject: "New backup codes", body: "New backup codes were generated for your account; the old ones no longer work.")
        return codes
    }

    // MARK: Checking codes

    /// Runs one verification: rate limits, then — atomically — the lock, the precondition, the check, and
    /// the failure counters.
    func attempt(
        accountID: UUID, method: Method?, context: AuditContext,
        precondition: @escaping @Sendable (inout MFAState, Date) -> Bool = { _, _ in true },
        check: @escaping @Sendable (inout MFAState, Date) -> (Bool, [AuditEvent])
    ) async throws {
        let now = clock.now()
        if let address = context.sourceAddress,
            let retry = try await guarded({ try await policy.verificationsPerAddress.exceeded(key: "mfa.verify.address:" + address, in: limiter, now: now) })
        {
            throw MFAError(.rateLimited, "too many attempts from this address", retryAfter: retry)
        }
        if let retry = try await guarded({ try await policy.verificationsPerAccount.exceeded(key: "mfa.verify.account:" + Self.key(accountID), in: limiter, now: now) }) {
            throw MFAError(.rateLimited, "too many attempts for this account", retryAfter: retry)
        }
        enum Outcome: Sendable {
            case success, failure, invalidChallenge
            case locked(Date)
            case stopped
        }
        let label = method?.rawValue ?? "confirm"
        let outcome: Outcome = try await guarded {
            try await store.updateMFA(accountID: accountID) { [policy] state in
                let subject = Self.subject(accountID)
                var lockout = MFALockout(state.failures, rules: MFALockout.Rules(policy))
                switch lockout.admit(at: now) {
                case .proceed: break
                case .stopped:
                    return MFAUpdate(.stopped, audit: [context.event("mfa.verify", .denied, subject: subject, details: ["method": label, "reason": "stopped"], at: now)])
                case .locked(let until):
                    return MFAUpdate(.locked(until), audit: [context.event("mfa.verify", .denied, subject: subject, details: ["method": label, "reason": "locked"], at: now)])
                }
                guard precondition(&state, now) else {
                    return MFAUpdate(.invalidChallenge, audit: [context.event("mfa.verify", .failure, subject: subject, details: ["method": label, "reason": "challenge"], at: now)])
                }
                let (ok, events) = check(&state, now)
                if ok {
                    lockout.succeeded()
                    state.failures = lockout.failures
                    return MFAUpdate(.success, audit: [context.event("mfa.verify", .success, subject: subject, details: ["method": label], at: now)] + events)
                }
                var audit = [context.event("mfa.verify", .failure, subject: subject, details: ["method": label], at: now)] + events
                switch lockout.failed(method: label, at: now) {
                case .counted, .ignored: break
                case .stopped(let failures):
                    audit.append(context.event("mfa.stopped", .denied, subject: subject, details: ["failures": String(failures)], at: now))
                case .locked(_, let seconds, let failures):
                    audit.append(context.event("mfa.locked", .denied, subject: subject, details: ["failures": String(failures), "seconds": String(Int(seconds))], at: now))
                }
                state.failures = lockout.failures
                return MFAUpdate(.failure, audit: audit)
            }
        }
        switch outcome {
        case .success: return
        case .failure, .invalidChallenge: throw MFAError.invalidCode
        case .locked(let until): throw MFAError(.locked, "too many failed attempts; try again later", retryAfter: max(1, until.timeIntervalSince(now).rounded(.up)))
        case .stopped: throw MFAError(.locked, "too many failed attempts; an administrator must reset two-step verification")
        }
    }

    /// Checks `code` against every confirmed factor of `method` (consuming what it matches).
    static func check(
        _ state: inout MFAState, method: Method, code: String, generators: [UUID: TOTP], now: Date, policy: MFAPolicy, hasher: SecretHasher
    ) -> Bool {
        switch method {
        case .totp:
            for index in state.factors.indices where state.factors[index].kind == .totp && state.factors[index].isConfirmed {
                guard let totp = generators[state.factors[index].id],
                    let step = totp.match(code, at: now, window: policy.totpWindow, after: state.factors[index].lastStep)
                else { continue }
                state.factors[index].lastStep = step
                state.factors[index].lastUsed = now
                return true
            }
            return false
        case .sms, .email:
            let kind: MFAState.Factor.Kind = method == .sms ? .sms : .email
            let ids = Set(state.confirmedFactors.filter { $0.kind == kind }.map(\.id))
            guard consumePendingCode(&state, code: code, factorIDs: ids, now: now, policy: policy, hasher: hasher) else { return false }
            for index in state.factors.indices where ids.contains(state.factors[index].id) { state.factors[index].lastUsed = now }
            return true
        case .passkey:
            return false
        case .backupCode:
            let typed = BackupCodes.normalize(code)
            var found: Int?
            for index in state.backupCodes.indices where state.backupCodes[index].used == nil {
                let code = state.backupCodes[index]
                if hasher.matches(typed, salt: code.salt, purpose: "backup", hash: code.hash), found == nil { found = index }
            }
            guard let found else { return false }
            state.backupCodes[found].used = now
            return true
        }
    }

    /// Matches a sent code for one of `factorIDs`; a wrong guess uses up one of the code's attempts.
    static func consumePendingCode(_ state: inout MFAState, code: String, factorIDs: Set<UUID>, now: Date, policy: MFAPolicy, hasher: SecretHasher) -> Bool {
        state.pendingCodes.removeAll { $0.expires <= now || $0.attempts >= policy.codeAttempts }
        let digitsOnly = code.utf8.count == policy.codeDigits && code.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        for index in state.pendingCodes.indices where factorIDs.contains(state.pendingCodes[index].factorID) {
            let pending = state.pendingCodes[index]
            if digitsOnly, hasher.matches(code, salt: pending.salt, purpose: "code:" + pending.factorID.uuidString, hash: pending.hash) {
                state.pendingCodes.remove(at: index)
                return true
            }
        }
        for index in state.pendingCodes.indices where factorIDs.contains(state.pendingCodes[index].factorID) {
            state.pendingCodes[index].attempts += 1
        }
        state.pendingCodes.removeAll { $0.attempts >= policy.codeAttempts }
        return false
    }

    // MARK: Helpers

    private func add(_ factor: MFAState.Factor, accountID: UUID, proof: MFAProof, now: Date, context: AuditContext) async throws {
        try await guarded {
            try await store.updateMFA(accountID: accountID) { [self] state in
                try requireRecent(state, proof, now: now)
                state.factors.removeAll { !$0.isConfirmed && ($0.enrollmentExpires ?? .distantPast) <= now }
                guard state.factors.count < 10 else { throw MFAError(.invalidParameters, "an account can have at most 10 factors") }
                state.factors.append(factor)
                return MFAUpdate(
                    (), audit: [context.event("mfa.factor_enrolled", subject: Self.subject(accountID), details: ["factor": factor.id.uuidString.lowercased(), "kind": factor.kind.rawValue], at: now)])
            }
        }
    }

    /// Sensitive changes need a recent MFA-level authentication once the account has MFA.
    func requireRecent(_ state: MFAState, _ proof: MFAProof, now: Date) throws(MFAError) {
        guard state.hasMFA else { return }
        guard let last = proof.lastMFA, now.timeIntervalSince(last) <= policy.recentAuthentication else {
            throw MFAError(.reauthenticationRequired, "verify with your second factor again to make this change")
        }
    }

    func totpGenerators(_ accountID: UUID, includeUnconfirmed: Bool) async throws -> [UUID: TOTP] {
        var generators: [UUID: TOTP] = [:]
        for factor in try await read(accountID).factors where factor.kind == .totp && (includeUnconfirmed || factor.isConfirmed) {
            let secret = try await cipher.openRefreshingKeyring(factor.sealedSecret, context: Self.sealContext(accountID, factor.id)).plaintext
            generators[factor.id] = try TOTP(
                secret: Array(secret), algorithm: factor.algorithm ?? .sha1, digits: factor.digits ?? 6, period: factor.period ?? 30)
        }
        return generators
    }

    func read(_ accountID: UUID) async throws -> MFAState {
        try await guarded { try await store.mfaState(accountID: accountID) } ?? MFAState()
    }

    func guarded<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MFAError {
            throw error
        } catch {
            throw MFAError(.unavailable, "the MFA store is unavailable")
        }
    }

    static func methods(_ state: MFAState) -> [Method] {
        var methods: [Method] = []
        let kinds = Set(state.confirmedFactors.map(\.kind))
        if kinds.contains(.totp) { methods.append(.totp) }
        if kinds.contains(.sms) { methods.append(.sms) }
        if kinds.contains(.email) { methods.append(.email) }
        if state.passkeys.contains(where: \.isUsable) { methods.append(.passkey) }
        if state.hasMFA, state.remainingBackupCodes > 0 { methods.append(.backupCode) }
        return methods
    }

    private static func clearAll(_ state: inout MFAState) {
        state.backupCodes = []
        state.backupCodesGenerated = nil
        state.pendingCodes = []
        state.challenges = []
    }

    static func sealContext(_ accountID: UUID, _ factorID: UUID) -> String {
        "mfa/\(key(accountID))/\(factorID.uuidString.lowercased())"
    }

    static func key(_ accountID: UUID) -> String { accountID.uuidString.lowercased() }
    static func subject(_ accountID: UUID) -> String { AuditSubject.account(accountID) }

    static func parse(_ token: String) -> (UUID, String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].utf8.count == 43, let id = UUID(text: String(parts[0])) else { return nil }
        return (id, String(parts[1]))
    }

    static func validName(_ name: String) throws(MFAError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw MFAError(.invalidParameters, "a factor name has 1 to 64 printable characters")
        }
        return trimmed
    }

    static func validDestination(_ kind: MFAState.Factor.Kind, _ destination: String) throws(MFAError) -> String {
        let value = destination.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .sms:
            let digits = value.dropFirst()
            guard value.hasPrefix("+"), (8...15).contains(digits.count), digits.first != "0", digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
                throw MFAError(.invalidParameters, "a phone number must be in E.164 form, like +14155550123")
            }
        case .email:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), value.count <= 254,
                !value.unicodeScalars.contains(where: { CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0) || $0 == "<" || $0 == ">" })
            else { throw MFAError(.invalidParameters, "the email address is not valid") }
        case .totp:
            break
        }
        return value
    }
}
