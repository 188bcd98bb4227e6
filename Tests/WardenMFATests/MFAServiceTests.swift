import Crypto
import Foundation
import Synchronization
import Testing
import WardenAudit
import WardenCore
import WardenCrypto
import WardenMFA
import WardenSQL
import WardenTestSupport

/// Where the MFA state lives in a test.
enum MFABackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite, postgres
    var testDescription: String { rawValue }
}

/// Records what would have been sent, or fails on demand (the real senders are tested in
/// WardenDeliveryTests and end to end in DeliveryEndToEndTests).
final class RecordingMessenger: MFAMessenger {
    struct Sent: Sendable {
        let channel: MFAState.Factor.Kind
        let destination: String
        let body: String
        var code: String { String(body.split(separator: " ").first { $0.count >= 6 && $0.dropLast().allSatisfy(\.isNumber) }!.filter(\.isNumber)) }
    }

    let sent = Mutex<[Sent]>([])
    let failing = Atomic<Bool>(false)

    func deliver(_ channel: MFAState.Factor.Kind, to destination: String, subject: String, body: String) async throws {
        if failing.load(ordering: .relaxed) { throw CancellationError() }
        sent.withLock { $0.append(Sent(channel: channel, destination: destination, body: body)) }
    }

    var last: Sent? { sent.withLock { $0.last } }
}

struct MFAFixture {
    let clock: ManualWallClock
    let service: MFAService
    let store: any MFAStore
    let audit: AuditLogProbe
    let messenger: RecordingMessenger
    let cleanup: @Sendable () async -> Void
    let account = UUID()
    static let masterKey = try! MasterKey(bytes: [UInt8](repeating: 7, count: 32))
    static let context = AuditContext(actor: "test", sourceAddress: "192.0.2.1", requestID: "r1")

    static func make(_ backend: MFABackend, policy: MFAPolicy = MFAPolicy()) async throws -> MFAFixture {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let cipher = try await FieldCipher.load(store: MemoryKeyringStore(), masterKey: masterKey, clock: clock)
        let chain = AuditChain(key: masterKey.auditKey)
        let store: any MFAStore
        let limiter: any RateLimitStore
        let audit: AuditLogProbe
        var cleanup: @Sendable () async -> Void = {}
        switch backend {
        case .memory:
            let log = MemoryAuditLog(chain: chain)
            audit = AuditLogProbe { log.events }
            store = MemoryMFAStore(audit: log)
            limiter = MemoryRateLimitStore()
        case .sqlite, .postgres:
            let made = try await (backend == .sqlite ? TestDatabase.sqlite : TestDatabase.postgres).makeBackend()
            try await Migrations.migrate(made.backend)
            let sql = SQLStore(backend: made.backend, auditChain: chain, keyringActor: "test")
            audit = AuditLogProbe { [sql] in (try? await sql.entries(after: 0, limit: 10_000).map(\.event)) ?? [] }
            store = sql
            limiter = sql
            cleanup = made.cleanup
        }
        let messenger = RecordingMessenger()
        let service = try MFAService(
            store: store, cipher: cipher, hashKey: masterKey.secretHashKey, limiter: limiter, messenger: messenger, policy: policy, clock: clock)
        return MFAFixture(clock: clock, service: service, store: store, audit: audit, messenger: messenger, cleanup: cleanup)
    }

    /// Enrols and confirms a TOTP device; returns its generator.
    func enrolledTOTP(name: String = "phone") async throws -> (TOTP, UUID) {
        let enrollment = try await service.enrollTOTP(accountID: account, accountName: "ada", deviceName: name, proof: MFAProof(lastMFA: clock.now()), context: Self.context)
        let totp = try TOTP(secret: Base32.decode(enrollment.secret)!)
        try await service.confirm(accountID: account, factorID: enrollment.factorID, code: totp.code(at: clock.now()), context: Self.context)
        return (totp, enrollment.factorID)
    }

    var now: Date { clock.now() }
}

/// Reads audit events from whichever log the backend uses.
struct AuditLogProbe: Sendable {
    let read: @Sendable () async -> [AuditEvent]
    init(_ read: @escaping @Sendable () async -> [AuditEvent]) { self.read = read }
    func actions() async -> [String] { await read().map(\.action) }
}

@Suite(.serialized)
struct MFAServiceTests {
    let context = MFAFixture.context

    @Test(arguments: MFABackend.allCases)
    func totpEnrolmentNeedsConfirmationAndExpires(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        let enrollment = try await f.service.enrollTOTP(accountID: f.account, accountName: "ada@example.com", deviceName: "phone", proof: .passwordOnly, context: context)
        #expect(enrollment.uri.hasPrefix("otpauth://totp/Warden:ada%40example.com?secret=\(enrollment.secret)&issuer=Warden&algorithm=SHA1&digits=6&period=30"))
        #expect(Base32.decode(enrollment.secret)?.count == 20)
        // Not active before confirmation: no methods, codes do not log in.
        #expect(try await f.service.methods(accountID: f.account).isEmpty)
        let totp = try TOTP(secret: Base32.decode(enrollment.secret)!)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now), context: context) }
        // A wrong code does not confirm it; a right one does.
        await #expect(throws: MFAError.invalidCode) {
            try await f.service.confirm(accountID: f.account, factorID: enrollment.factorID, code: "000000" == totp.code(at: f.now) ? "111111" : "000000", context: context)
        }
        try await f.service.confirm(accountID: f.account, factorID: enrollment.factorID, code: totp.code(at: f.now), context: context)
        #expect(try await f.service.methods(accountID: f.account) == [.totp])
        // An enrolment left unconfirmed expires.
        let stale = try await f.service.enrollTOTP(accountID: f.account, accountName: "ada", deviceName: "tablet", proof: MFAProof(lastMFA: f.now), context: context)
        f.clock.advance(by: 16 * 60)
        let staleTOTP = try TOTP(secret: Base32.decode(stale.secret)!)
        await #expect(throws: MFAError.invalidCode) { try await f.service.confirm(accountID: f.account, factorID: stale.factorID, code: staleTOTP.code(at: f.now), context: context) }
        #expect(try await f.service.factors(accountID: f.account).map(\.name) == ["phone"])
        // Sealed at rest: the document holds no secret.
        let state = try #require(try await f.store.mfaState(accountID: f.account))
        let document = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        #expect(!document.contains(enrollment.secret))
        #expect(state.factors.allSatisfy { $0.sealedSecret.hasPrefix("wd1:") })
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func aTOTPCodeIsAcceptedOnceAndEarlierStepsNever(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        let (totp, _) = try await f.enrolledTOTP()
        f.clock.advance(by: 30)
        let code = totp.code(at: f.now)
        try await f.service.verify(accountID: f.account, method: .totp, code: code, context: context)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: code, context: context) }
        // The previous step's code is inside the window but older than the one used.
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now.addingTimeInterval(-30)), context: context) }
        // The next step is fine, and two steps ahead is outside the window.
        if totp.code(at: f.now.addingTimeInterval(60)) != totp.code(at: f.now.addingTimeInterval(30)) {
            await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now.addingTimeInterval(60)), context: context) }
        }
        try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now.addingTimeInterval(30)), context: context)
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func thirtyConcurrentSubmissionsOfOneCodeSucceedOnce(_ backend: MFABackend) async throws {
        var policy = MFAPolicy()
        policy.verificationsPerAddress = RateLimit(limit: 1000, window: 60)
        policy.verificationsPerAccount = RateLimit(limit: 1000, window: 60)
        let f = try await MFAFixture.make(backend, policy: policy)
        let (totp, _) = try await f.enrolledTOTP()
        f.clock.advance(by: 30)
        let code = totp.code(at: f.now)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<30 {
                group.addTask { (try? await f.service.verify(accountID: f.account, method: .totp, code: code, context: context)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func backupCodes(_ backend: MFABackend) async throws {
        var policy = MFAPolicy()
        policy.verificationsPerAddress = RateLimit(limit: 1000, window: 60)
        policy.verificationsPerAccount = RateLimit(limit: 1000, window: 60)
        policy.lockThreshold = 50
        let f = try await MFAFixture.make(backend, policy: policy)
        // Only with a factor, and only with recent MFA.
        await #expect(throws: MFAError.self) { try await f.service.generateBackupCodes(accountID: f.account, proof: .passwordOnly, context: context) }
        _ = try await f.enrolledTOTP()
        let denied = try await #require(throws: MFAError.self) { try await f.service.generateBackupCodes(accountID: f.account, proof: .passwordOnly, context: context) }
        #expect(denied.code == .reauthenticationRequired)
        let codes = try await f.service.generateBackupCodes(accountID: f.account, proof: MFAProof(lastMFA: f.now), context: context)
        #expect(codes.count == 10 && Set(codes).count == 10)
        for code in codes {
            #expect(code.count == 14 && code.split(separator: "-").count == 3)
            #expect(code.utf8.allSatisfy { $0 == UInt8(ascii: "-") || BackupCodes.alphabet.contains($0) })
        }
        #expect(try await f.service.remainingBackupCodes(accountID: f.account) == 10)
        #expect(try await f.service.methods(accountID: f.account) == [.totp, .backupCode])
        // Case, spaces and hyphens do not matter; each code works once.
        try await f.service.verify(accountID: f.account, method: .backupCode, code: codes[0].lowercased().replacingOccurrences(of: "-", with: " "), context: context)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .backupCode, code: codes[0], context: context) }
        #expect(try await f.service.remainingBackupCodes(accountID: f.account) == 9)
        // 30 concurrent uses of one code: one success.
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<30 {
                group.addTask { (try? await f.service.verify(accountID: f.account, method: .backupCode, code: codes[1], context: context)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await f.service.remainingBackupCodes(accountID: f.account) == 8)
        // Regenerating voids the whole old set.
        let fresh = try await f.service.generateBackupCodes(accountID: f.account, proof: MFAProof(lastMFA: f.now), context: context)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .backupCode, code: codes[2], context: context) }
        try await f.service.verify(accountID: f.account, method: .backupCode, code: fresh[2], context: context)
        // Stored only as keyed hashes.
        let state = try #require(try await f.store.mfaState(accountID: f.account))
        let document = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        for code in fresh { #expect(!document.contains(BackupCodes.normalizeForTests(code))) }
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func lockoutGrowsAndStopsAtOneHundred(_ backend: MFABackend) async throws {
        var policy = MFAPolicy()
        policy.verificationsPerAddress = RateLimit(limit: 10_000, window: 60)
        policy.verificationsPerAccount = RateLimit(limit: 10_000, window: 60)
        let f = try await MFAFixture.make(backend, policy: policy)
        let (totp, _) = try await f.enrolledTOTP()
        func wrong() -> String { totp.code(at: f.now) == "000000" ? "111111" : "000000" }
        for _ in 0..<5 { await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: wrong(), context: context) } }
        // Locked: even the right code is refused, with a retry time.
        f.clock.advance(by: 30)
        let locked = try await #require(throws: MFAError.self) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now), context: context) }
        #expect(locked.code == .locked && (locked.retryAfter ?? 0) > 0 && (locked.retryAfter ?? 0) <= 300)
        // Switching factors does not help.
        let viaBackup = try await #require(throws: MFAError.self) { try await f.service.verify(accountID: f.account, method: .backupCode, code: "ABCD-EFGH-JKMN", context: context) }
        #expect(viaBackup.code == .locked)
        f.clock.advance(by: 300)
        // Five more failures: a ten-minute lock.
        for _ in 0..<5 { await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .totp, code: wrong(), context: context) } }
        let second = try await #require(throws: MFAError.self) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now), context: context) }
        #expect(second.code == .locked && (second.retryAfter ?? 0) > 300 && (second.retryAfter ?? 0) <= 600)
        // Keep failing through every lock up to 100 consecutive failures: then MFA stops.
        var failures = 10
        while failures < 100 {
            f.clock.advance(by: 86_400)
            do {
                try await f.service.verify(accountID: f.account, method: .totp, code: wrong(), context: context)
            } catch let error as MFAError where error.code == .invalidCode {
                failures += 1
            }
        }
        f.clock.advance(by: 86_400 * 3)
        let stopped = try await #require(throws: MFAError.self) { try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now), context: context) }
        #expect(stopped.code == .locked && stopped.retryAfter == nil)
        #expect(await f.audit.actions().contains("mfa.stopped"))
        // Only an administrator's reset brings it back.
        try await f.service.resetLockout(accountID: f.account, context: context)
        try await f.service.verify(accountID: f.account, method: .totp, code: totp.code(at: f.now), context: context)
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func smsAndEmailCodes(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        let phone = try await f.service.enrollDestination(.sms, destination: "+14155550123", accountID: f.account, name: "mobile", proof: .passwordOnly, context: context)
        let first = try #require(f.messenger.last)
        #expect(first.channel == .sms && first.destination == "+14155550123" && first.code.count == 6)
        try await f.service.confirm(accountID: f.account, factorID: phone, code: first.code, context: context)
        // The destination is sealed at rest.
        let document = String(decoding: try JSONEncoder().encode(try await f.store.mfaState(accountID: f.account)), as: UTF8.self)
        #expect(!document.contains("4155550123"))

        // A login code: single use.
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let code = try #require(f.messenger.last).code
        try await f.service.verify(accountID: f.account, method: .sms, code: code, context: context)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .sms, code: code, context: context) }

        // A new code voids the old one.
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let old = try #require(f.messenger.last).code
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let new = try #require(f.messenger.last).code
        if old != new { await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .sms, code: old, context: context) } }
        try await f.service.verify(accountID: f.account, method: .sms, code: new, context: context)

        // Expiry (5 minutes).
        f.clock.advance(by: 3600)
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let late = try #require(f.messenger.last).code
        f.clock.advance(by: 301)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .sms, code: late, context: context) }

        // At most 5 attempts per code: the right code after 5 wrong ones is void.
        try await f.service.resetLockout(accountID: f.account, context: context)
        f.clock.advance(by: 3600)
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let guarded = try #require(f.messenger.last).code
        for guess in 0..<5 {
            let wrong = String(format: "%06d", (Int(guarded)! + guess + 1) % 1_000_000)
            _ = try? await f.service.verify(accountID: f.account, method: .sms, code: wrong, context: context)
        }
        try await f.service.resetLockout(accountID: f.account, context: context)
        await #expect(throws: MFAError.invalidCode) { try await f.service.verify(accountID: f.account, method: .sms, code: guarded, context: context) }

        // Codes never appear in the audit log.
        let events = await f.audit.read()
        for sent in f.messenger.sent.withLock({ $0 }) {
            #expect(!events.contains { event in event.details.values.contains { $0.contains(sent.code) } })
        }
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func sendingIsRateLimitedPerAccountAndDestination(_ backend: MFABackend) async throws {
        var policy = MFAPolicy()
        policy.sendsPerAccount = RateLimit(limit: 3, window: 900)
        let f = try await MFAFixture.make(backend, policy: policy)
        let phone = try await f.service.enrollDestination(.sms, destination: "+14155550123", accountID: f.account, name: "mobile", proof: .passwordOnly, context: context)
        try await f.service.confirm(accountID: f.account, factorID: phone, code: try #require(f.messenger.last).code, context: context)
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        let limited = try await #require(throws: MFAError.self) { try await f.service.sendCode(accountID: f.account, method: .sms, context: context) }
        #expect(limited.code == .rateLimited && (limited.retryAfter ?? 0) > 0)
        f.clock.advance(by: 901)
        try await f.service.sendCode(accountID: f.account, method: .sms, context: context)
        await f.cleanup()

        // Per source address, across accounts.
        var perAddress = MFAPolicy()
        perAddress.sendsPerAddress = RateLimit(limit: 2, window: 3600)
        let g = try await MFAFixture.make(backend, policy: perAddress)
        let other = UUID()
        _ = try await g.service.enrollDestination(.sms, destination: "+14155550100", accountID: g.account, name: "a", proof: .passwordOnly, context: context)
        _ = try await g.service.enrollDestination(.sms, destination: "+14155550101", accountID: other, name: "b", proof: .passwordOnly, context: context)
        let byAddress = try await #require(throws: MFAError.self) {
            try await g.service.enrollDestination(.sms, destination: "+14155550102", accountID: UUID(), name: "c", proof: .passwordOnly, context: context)
        }
        #expect(byAddress.code == .rateLimited)
        await g.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func aFailedDeliveryIsNotASentCode(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        let email = try await f.service.enrollDestination(.email, destination: "ada@example.com", accountID: f.account, name: "work", proof: .passwordOnly, context: context)
        try await f.service.confirm(accountID: f.account, factorID: email, code: try #require(f.messenger.last).code, context: context)
        f.messenger.failing.store(true, ordering: .relaxed)
        let error = try await #require(throws: MFAError.self) { try await f.service.sendCode(accountID: f.account, method: .email, context: context) }
        #expect(error.code == .deliveryFailed)
        let state = try #require(try await f.store.mfaState(accountID: f.account))
        #expect(state.pendingCodes.isEmpty)
        #expect(await f.audit.actions().contains("mfa.delivery_failed"))
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func loginChallenges(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        #expect(try await f.service.beginChallenge(accountID: f.account, device: "dev-1", context: context) == nil)
        let (totp, _) = try await f.enrolledTOTP()
        let challenge = try #require(try await f.service.beginChallenge(accountID: f.account, device: "dev-1", context: context))
        #expect(challenge.methods == [.totp])
        #expect(challenge.expires == f.now.addingTimeInterval(300))
        f.clock.advance(by: 30)
        // Another device, or an edited token, cannot use it.
        await #expect(throws: MFAError.invalidCode) {
            try await f.service.completeChallenge(token: challenge.token, device: "dev-2", method: .totp, code: totp.code(at: f.now), context: context)
        }
        var edited = Array(challenge.token.utf8)
        edited[edited.count - 3] ^= 1
        await #expect(throws: MFAError.invalidCode) {
            try await f.service.completeChallenge(token: String(decoding: edited, as: UTF8.self), device: "dev-1", method: .totp, code: totp.code(at: f.now), context: context)
        }
        #expect(try await f.service.completeChallenge(token: challenge.token, device: "dev-1", method: .totp, code: totp.code(at: f.now), context: context) == f.account)
        // Single use.
        f.clock.advance(by: 30)
        await #expect(throws: MFAError.invalidCode) {
            try await f.service.completeChallenge(token: challenge.token, device: "dev-1", method: .totp, code: totp.code(at: f.now), context: context)
        }
        // Expired after five minutes.
        let late = try #require(try await f.service.beginChallenge(accountID: f.account, device: "dev-1", context: context))
        f.clock.advance(by: 301)
        await #expect(throws: MFAError.invalidCode) {
            try await f.service.completeChallenge(token: late.token, device: "dev-1", method: .totp, code: totp.code(at: f.now), context: context)
        }
        await f.cleanup()
    }

    @Test(arguments: MFABackend.allCases)
    func sensitiveChangesNeedRecentMFA(_ backend: MFABackend) async throws {
        let f = try await MFAFixture.make(backend)
        let (_, factor) = try await f.enrolledTOTP()
        for proof in [MFAProof.passwordOnly, MFAProof(lastMFA: f.now.addingTimeInterval(-16 * 60))] {
            for operation in [
                { try await f.service.disable(accountID: f.account, proof: proof, context: context) },
                { try await f.service.removeFactor(accountID: f.account, factorID: factor, proof: proof, context: context) },
                { _ = try await f.service.enrollTOTP(accountID: f.account, accountName: "ada", deviceName: "second", proof: proof, context: context) },
                { _ = try await f.service.generateBackupCodes(accountID: f.account, proof: proof, context: context) },
            ] as [@Sendable () async throws -> Void] {
                let error = try await #require(throws: MFAError.self) { try await operation() }
                #expect(error.code == .reauthenticationRequired)
            }
        }
        try await f.service.disable(accountID: f.account, proof: MFAProof(lastMFA: f.now), context: context)
        #expect(try await f.service.methods(accountID: f.account).isEmpty)
        #expect(await f.audit.actions().contains("mfa.disabled"))
        await f.cleanup()
    }

    /// A forged challenge for someone else's account must not spend that account's verification budget.
    @Test func forgedChallengesDoNotExhaustTheVictimsBudget() async throws {
        var policy = MFAPolicy()
        policy.verificationsPerAccount = RateLimit(limit: 5, window: 60)
        policy.verificationsPerAddress = RateLimit(limit: 1000, window: 60)
        let f = try await MFAFixture.make(.memory, policy: policy)
        let (totp, _) = try await f.enrolledTOTP()
        let attacker = AuditContext(actor: "anonymous", sourceAddress: "203.0.113.9")
        for _ in 0..<20 {
            let forged = f.account.uuidString.lowercased() + "." + String(repeating: "A", count: 43)
            await #expect(throws: MFAError.invalidCode) {
                _ = try await f.service.completeChallenge(token: forged, device: "d", method: .totp, code: "123456", context: attacker)
            }
        }
        let challenge = try #require(try await f.service.beginChallenge(accountID: f.account, device: "d", context: MFAFixture.context))
        f.clock.advance(by: 30)
        #expect(try await f.service.completeChallenge(token: challenge.token, device: "d", method: .totp, code: totp.code(at: f.now), context: MFAFixture.context) == f.account)
        await f.cleanup()
    }
}

extension BackupCodes {
    static func normalizeForTests(_ code: String) -> String { code.replacingOccurrences(of: "-", with: "") }

}
