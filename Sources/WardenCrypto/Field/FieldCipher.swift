import Crypto
public import Foundation
import Synchronization
public import WardenCore

/// Encrypts and decrypts sensitive fields with a versioned, rotating keyring.
///
/// ```swift
/// let store = FileKeyringStore(directory: "/var/lib/warden")
/// let cipher = try await FieldCipher.load(store: store, masterKey: masterKey)
/// let sealed = try await cipher.seal(Data("ada@example.com".utf8), context: "users/email/42")
/// let column = sealed.text                      // "wd1:1:…" for a text column
/// let opened = try cipher.open(column, context: "users/email/42")
/// ```
///
/// Seals always use the primary version; opens accept the primary and active versions and, when
/// ``Configuration/legacyKeys`` is set, the original system's formats. The result says which key or
/// format opened a value so callers can rewrap it; ``openUpgrading(_:context:)-(String,_)`` opens and,
/// when the value is not current, returns it sealed anew for the caller to write back.
///
/// Rotation happens when asked (``rotate()``), when the primary is older than the rotation period
/// (checked on load, on every seal, and by ``runMaintenance(every:clock:)``), and when the primary reaches
/// its seal limit. Seals are counted exactly in memory and reserved in the store in batches; call
/// ``close()`` on shutdown to give back the unused part of the batch.
///
/// - Important: Every authentication problem when opening (tampering, wrong context, moved ciphertext,
///   malformed input) is reported as the one generic ``WardenCryptoError/Code/decryptionFailed``; the
///   precise reason goes to ``Configuration/failureObserver`` only.
public final class FieldCipher: Sendable {
    /// Limits and optional features.
    public struct Configuration: Sendable {
        /// Rotation and seal counting.
        public var policy = KeyringPolicy()
        /// The largest plaintext accepted (default 1 MiB); larger inputs are refused before any work.
        public var maxPlaintextBytes = 1 << 20
        /// The longest context accepted, in UTF-8 bytes.
        public var maxContextBytes = 1024
        /// Rotate the primary on load and on seal once it is older than the rotation period.
        public var rotatesWhenDue = true
        /// Rotate in two phases, for keyrings shared by several processes: a due rotation only publishes
        /// a new version (``publishIfDue()``), and something that knows every node (``promote(_:)``'s
        /// caller) makes it primary once they have all loaded it. Seals never rotate in-band then; only a
        /// primary at its seal limit is replaced at once (the published version if there is one).
        public var rotatesInTwoPhases = false
        /// Keys of the original system, to open the data it wrote.
        public var legacyKeys: LegacyKeys?
        /// Receives the precise reason each time a ciphertext fails to open (for the audit log).
        public var failureObserver: (@Sendable (DecryptionFailure) -> Void)?

        public init() {}
    }

    private struct State {
        var keyring: Keyring
        var rotationDue: Date
        var primaryKey: AESGCMContext?
        var ledger = SealLedger()
        var refilling = false
        var nonces = NoncePool()
    }

    private enum SealStep {
        case seal(version: UInt32, key: AESGCMContext, nonce: NoncePool.Nonce, refill: Bool)
        case reserve(version: UInt32)
        case rotate
    }

    let manager: KeyringManager
    public let configuration: Configuration
    let clock: any WallClock
    private let legacy: LegacyReader?
    private let state: Mutex<State>
    private let unknownVersionReloads = Atomic<Int>(0)
    /// The keyring read that opens waiting on an unknown version share, and when the last one ended.
    private let unknownVersionRead = Mutex<(task: Task<Void, any Error>?, ended: ContinuousClock.Instant?)>((nil, nil))

    private init(manager: KeyringManager, keyring: Keyring, configuration: Configuration, clock: any WallClock) {
        self.manager = manager
        self.configuration = configuration
        self.clock = clock
        legacy = configuration.legacyKeys.map { LegacyReader(keys: $0) }
        state = Mutex(
            State(
                keyring: keyring, rotationDue: Self.rotationDue(keyring, configuration.policy),
                primaryKey: keyring.dataKeys[keyring.primaryVersion]))
    }

    /// Loads the keyring from `store` (creating it if the store is empty) and rotates it if it is due.
    ///
    /// - Throws: ``WardenCryptoError/Code/wrongMasterKey`` before anything is written when the keyring
    ///   was created under another master key; ``WardenCryptoError/Code/keyringCorrupt`` when the stored
    ///   document fails its integrity check.
    public static func load(
        store: any KeyringStore,
        masterKey: MasterKey,
        configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock()
    ) async throws -> FieldCipher {
        let manager = try await KeyringManager.open(store: store, masterKey: masterKey, policy: configuration.policy, clock: clock)
        var keyring = await manager.keyring
        if configuration.rotatesWhenDue {
            keyring = try await configuration.rotatesInTwoPhases ? manager.publishIfDue().keyring : manager.rotateIfDue().keyring
        }
        return FieldCipher(manager: manager, keyring: keyring, configuration: configuration, clock: clock)
    }

    /// A tag for `identifier` that the audit log can hold in place of its text: the first 12 bytes of
    /// HMAC-SHA256 under ``MasterKey/identifierKey``, in hex. Equal identifiers give equal tags on every
    /// node, so repeated attempts correlate; without the master key the text cannot be guessed offline.
    public func identifierTag(_ identifier: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(identifier.utf8), using: manager.masterKey.identifierKey)
        return Hex.encode(Data(mac).prefix(12))
    }

    /// The current keyring snapshot.
    public var keyring: Keyring { state.withLock { $0.keyring } }

    /// Seals performed by this process under `version` (exact).
    public func sealCount(version: UInt32) -> UInt64 {
        state.withLock { $0.ledger.sealed(version) }
    }

    // MARK: Sealing

    /// Seals `plaintext` under the primary key version, bound to `context`.
    ///
    /// - Parameters:
    ///   - plaintext: The value; at most ``Configuration/maxPlaintextBytes``.
    ///   - context: Where the value lives, e.g. `users/email/42`. Opening requires the same context, so a
    ///     ciphertext copied to another field or record fails to open.
    /// - Throws: ``WardenCryptoError/Code/tooLarge`` or ``WardenCryptoError/Code/invalidContext`` before
    ///   any work; a store error if seals could not be reserved.
    public func seal(_ plaintext: some DataProtocol, context: String) async throws -> FieldEnvelope {
        try await seal(bytes: plaintext, context: context)
    }

    /// ``seal(_:context:)`` for a byte array: no copy into `Data`, and no generic code at run time (the
    /// generic entry point is not specialised for callers in other modules).
    public func seal(_ plaintext: [UInt8], context: String) async throws -> FieldEnvelope {
        try await seal(bytes: plaintext, context: context)
    }

    private func seal<Plaintext: DataProtocol>(bytes plaintext: Plaintext, context: String) async throws -> FieldEnvelope {
        guard plaintext.count <= configuration.maxPlaintextBytes else {
            throw WardenCryptoError(.tooLarge, "the plaintext is \(plaintext.count) bytes; the limit is \(configuration.maxPlaintextBytes)")
        }
        let context = try checkedContext(context)
        // Each pass either seals or changes the state (reservation, rotation); a few passes suffice
        // unless the store keeps refusing, which is reported instead of looping.
        for _ in 0..<8 {
            let now = clock.now()
            let refillBelow = configuration.policy.sealReservation / 4
            let step = state.withLock { state -> SealStep in
                if configuration.rotatesWhenDue, !configuration.rotatesInTwoPhases, now >= state.rotationDue { return .rotate }
                let version = state.keyring.primaryVersion
                guard let key = state.primaryKey, let remaining = state.ledger.spend(version) else {
                    return .reserve(version: version)
                }
                let refill = remaining < refillBelow && !state.refilling
                if refill { state.refilling = true }
                return .seal(version: version, key: key, nonce: state.nonces.next(), refill: refill)
            }
            switch step {
            case .rotate:
                install(try await manager.rotateIfDue().keyring)
            case .reserve(let version):
                try await reserve(version: version, rotateIfExhausted: true)
            case .seal(let version, let key, let nonce, let refill):
                let envelope = FieldEnvelope.seal(plaintext, key: key, keyVersion: version, context: context, nonce: nonce)
                if refill {
                    // Reserve the next batch ahead of need. A failure here is not this seal's failure:
                    // the next seal that finds no reservation reports it.
                    try? await reserve(version: version, rotateIfExhausted: false)
                    state.withLock { $0.refilling = false }
                }
                return envelope
            }
        }
        throw WardenCryptoError(.storeFailure, "could not obtain a key version to seal with")
    }

    private func reserve(version: UInt32, rotateIfExhausted: Bool) async throws {
        let (keyring, granted) = try await manager.reserveSeals(version: version, rotateIfExhausted: rotateIfExhausted)
        state.withLock { state in
            state.ledger.add(granted, for: version)
        }
        install(keyring)
    }

    // MARK: Opening

    /// Opens a ciphertext in any accepted format: a binary or text envelope, or (with legacy keys) the
    /// original system's JSON envelopes and Fernet tokens.
    ///
    /// - Throws: ``WardenCryptoError/Code/decryptionFailed`` for any authentication or format problem;
    ///   clear errors for a retired, destroyed or unknown key version, a legacy format without its key,
    ///   or an oversized input.
    public func open(_ ciphertext: some DataProtocol, context: String) throws(WardenCryptoError) -> OpenedField {
        let bytes = ciphertext as? Data ?? Data(ciphertext)
        return try open(bytes: bytes, context: context)
    }

    /// Opens a text ciphertext (a text envelope, a legacy JSON envelope or a Fernet token).
    public func open(_ text: String, context: String) throws(WardenCryptoError) -> OpenedField {
        if text.hasPrefix(FieldEnvelope.textPrefix), text.utf8.count <= maxInputBytes {
            guard let envelope = try? FieldEnvelope(text: text) else { throw failure("envelope", .malformed, context) }
            return try open(envelope, context: context)
        }
        return try open(bytes: Data(text.utf8), context: context)
    }

    /// Opens a text ciphertext like ``open(_:context:)-(String,_)``, but the key derivations the
    /// original system's formats need (PBKDF2, the first time each key is used) run on Warden's worker
    /// threads instead of the calling task's thread.
    ///
    /// - Important: Servers open untrusted input with this (or ``openRefreshingKeyring(_:context:)``):
    ///   each legacy key costs 100,000 PBKDF2 rounds, which on Swift's cooperative pool would stall every
    ///   other task while it runs.
    public func openOffPool(_ text: String, context: String) async throws(WardenCryptoError) -> OpenedField {
        try await openOffPool(bytes: Data(text.utf8), context: context)
    }

    func openOffPool(bytes: Data, context: String) async throws(WardenCryptoError) -> OpenedField {
        switch try openEnvelope(bytes: bytes, context: context) {
        case .opened(let opened):
            return opened
        case .legacyJSON:
            let outcome = try await legacyReader(for: "a legacy JSON envelope").openJSONOffPool(bytes)
            return try opened(outcome, format: "legacy-json", context: context)
        case .legacyFernet:
            let outcome = try await legacyReader(for: "a legacy Fernet token").openFernetOffPool(bytes, now: clock.now())
            return try opened(outcome, format: "legacy-fernet", context: context)
        }
    }

    /// Opens a text ciphertext like ``openOffPool(_:context:)``, but when it names a key version this
    /// process has not seen yet (another node rotated a moment ago), re-reads the keyring and tries
    /// again (``reopeningUnknownVersion(_:)``).
    public func openRefreshingKeyring(_ text: String, context: String) async throws -> OpenedField {
        try await reopeningUnknownVersion { try await self.openOffPool(text, context: context) }
    }

    /// Runs `open`; when it meets a key version this process has not loaded, re-reads the keyring (at most
    /// once a second: callers arriving during a read share it, and a version still unknown right after
    /// one fails at once, so made-up versions cannot make every request read the store) and runs it again.
    /// A version that the re-read found is counted (``unknownVersionReloadCount``); a made-up one is not.
    func reopeningUnknownVersion<T>(_ open: () async throws -> T) async throws -> T {
        do {
            return try await open()
        } catch let error as WardenCryptoError where error.code == .unknownKeyVersion {
            guard try await rereadForUnknownVersion() else { throw error }
            do {
                let opened = try await open()
                unknownVersionReloads.add(1, ordering: .relaxed)
                return opened
            } catch let again as WardenCryptoError where again.code == .unknownKeyVersion {
                throw again
            } catch {
                unknownVersionReloads.add(1, ordering: .relaxed)
                throw error
            }
        }
    }

    /// Re-reads the keyring for an open that met an unknown version, sharing a read under way; `false`
    /// when one ended less than a second ago (nothing new to look for).
    private func rereadForUnknownVersion() async throws -> Bool {
        let read: Task<Void, any Error>? = unknownVersionRead.withLock { state in
            if let task = state.task { return task }
            if let ended = state.ended, ContinuousClock.now - ended < .seconds(1) { return nil }
            let task = Task { _ = try await self.refresh() }
            state.task = task
            return task
        }
        guard let read else { return false }
        defer {
            unknownVersionRead.withLock { state in
                if state.task == read { (state.task, state.ended) = (nil, ContinuousClock.now) }
            }
        }
        try await read.value
        return true
    }

    /// Opens an envelope.
    public func open(_ envelope: FieldEnvelope, context: String) throws(WardenCryptoError) -> OpenedField {
        let contextBytes = try checkedContext(context)
        guard envelope.binary.count - FieldEnvelope.overhead <= configuration.maxPlaintextBytes else { throw tooLarge(envelope.binary.count) }
        let keyring = keyring
        let key = try keyring.openingKey(for: envelope.keyVersion)
        guard let plaintext = envelope.open(key: key, context: contextBytes) else {
            throw failure("envelope", .authenticationFailed, context)
        }
        return OpenedField(
            plaintext: plaintext, source: .envelope(keyVersion: envelope.keyVersion),
            needsRewrap: envelope.keyVersion != keyring.primaryVersion)
    }

    private func open(bytes: Data, context: String) throws(WardenCryptoError) -> OpenedField {
        switch try openEnvelope(bytes: bytes, context: context) {
        case .opened(let opened):
            return opened
        case .legacyJSON:
            return try opened(try legacyReader(for: "a legacy JSON envelope").openJSON(bytes), format: "legacy-json", context: context)
        case .legacyFernet:
            let outcome = try legacyReader(for: "a legacy Fernet token").openFernet(bytes, now: clock.now())
            return try opened(outcome, format: "legacy-fernet", context: context)
        }
    }

    /// Checks that a ciphertext in any accepted format is authentic under the keys, decrypting only where
    /// the format allows nothing less: a Fernet token's HMAC (and time limits) is checked without
    /// decrypting it; envelopes and JSON envelopes (AES-GCM) are opened. Returns what sealed it.
    ///
    /// For bulk checks before any change (`warden migrate` validates every value while it writes its
    /// backup): a token that is authentic opens, unless the original wrote a malformed plaintext under its
    /// own key.
    public func authenticate(_ ciphertext: some DataProtocol, context: String) throws(WardenCryptoError) -> OpenedField.Source {
        let bytes = ciphertext as? Data ?? Data(ciphertext)
        guard case .legacyFernet = try openEnvelope(bytes: bytes, context: context) else { return try open(bytes: bytes, context: context).source }
        switch try legacyReader(for: "a legacy Fernet token").authenticateFernet(bytes, now: clock.now()) {
        case .opened(_, let source): return source
        case .failed(let reason): throw failure("legacy-fernet", reason, context)
        }
    }

    /// Opens a digital-twin Fernet token (the original's `digital_twin.db` cells) and returns its whole
    /// JSON wrapper, `{"data": …, "meta": {"field", "encrypted_at", "compliance_flags"}}`, instead of the
    /// `data` string ``open(_:context:)-(DataProtocol,_)`` returns; any other input opens as usual.
    /// For `warden migrate --keep-twin-meta`.
    public func openKeepingTwinWrapper(_ ciphertext: some DataProtocol, context: String) throws(WardenCryptoError) -> OpenedField {
        let bytes = ciphertext as? Data ?? Data(ciphertext)
        guard case .legacyFernet = try openEnvelope(bytes: bytes, context: context) else { return try open(bytes: bytes, context: context) }
        let outcome = try legacyReader(for: "a legacy Fernet token").openFernet(bytes, now: clock.now(), keepingWrapper: true)
        return try opened(outcome, format: "legacy-fernet", context: context)
    }

    private enum EnvelopeOrLegacy {
        case opened(OpenedField)
        case legacyJSON
        case legacyFernet
    }

    /// Opens `bytes` if they are one of Warden's envelopes, or says which legacy format they are.
    private func openEnvelope(bytes: Data, context: String) throws(WardenCryptoError) -> EnvelopeOrLegacy {
        _ = try checkedContext(context)
        // Text forms expand by 4/3; the legacy formats add at most a few hundred bytes of framing.
        guard bytes.count <= maxInputBytes else { throw tooLarge(bytes.count) }
        if FieldEnvelope.parseHeader(bytes) != nil {
            guard let envelope = try? FieldEnvelope(binary: bytes) else { throw failure("envelope", .malformed, context) }
            return .opened(try open(envelope, context: context))
        }
        if bytes.starts(with: FieldEnvelope.textPrefix.utf8) {
            guard let envelope = try? FieldEnvelope(text: String(decoding: bytes, as: UTF8.self)) else {
                throw failure("envelope", .malformed, context)
            }
            return .opened(try open(envelope, context: context))
        }
        if bytes.first == UInt8(ascii: "{") { return .legacyJSON }
        if bytes.starts(with: "gAAAAA".utf8) { return .legacyFernet }
        throw failure("unknown", .unrecognisedFormat, context)
    }

    private func opened(_ outcome: LegacyReader.Outcome, format: String, context: String) throws(WardenCryptoError) -> OpenedField {
        switch outcome {
        case .opened(let plaintext, let source):
            return OpenedField(plaintext: plaintext, source: source, needsRewrap: true)
        case .failed(let reason):
            throw failure(format, reason, context)
        }
    }

    /// The longest ciphertext input accepted: text forms expand by 4/3; the legacy formats add at most a
    /// few hundred bytes of framing.
    private var maxInputBytes: Int { configuration.maxPlaintextBytes / 3 * 4 + 1024 }

    private func legacyReader(for what: String) throws(WardenCryptoError) -> LegacyReader {
        guard let legacy else {
            throw WardenCryptoError(.legacyKeyMissing, "the input is \(what); opening it needs the original system's keys (see docs/formats.md)")
        }
        return legacy
    }

    // MARK: Rewrapping

    /// Re-encrypts a ciphertext (any accepted format) under the primary key version, bound to `context`,
    /// without handing the plaintext to the caller.
    ///
    /// This is the migration path: legacy values, which bind no context, come out bound to `context`.
    public func rewrap(_ ciphertext: some DataProtocol, context: String) async throws -> FieldEnvelope {
        let opened = try await openOffPool(bytes: ciphertext as? Data ?? Data(ciphertext), context: context)
        return try await seal(opened.plaintext, context: context)
    }

    /// Re-encrypts a text ciphertext under the primary key version.
    public func rewrap(_ text: String, context: String) async throws -> FieldEnvelope {
        try await rewrap(Data(text.utf8), context: context)
    }

    // MARK: Key management

    /// Creates a new key version and makes it primary, whatever the age of the current primary.
    @discardableResult
    public func rotate() async throws -> Keyring {
        install(try await manager.rotate())
    }

    /// The first phase of a two-phase rotation: adds a version that every process can open once it has
    /// re-read the keyring, and that seals nothing until ``promote(_:)``. A no-op when one is published.
    @discardableResult
    public func publish() async throws -> Keyring {
        install(try await manager.publish())
    }

    /// Publishes a new version when the primary is due for rotation and none is published yet.
    ///
    /// - Returns: Whether a version was published.
    @discardableResult
    public func publishIfDue() async throws -> Bool {
        let (keyring, published) = try await manager.publishIfDue()
        install(keyring)
        return published
    }

    /// The second phase: the published `version` becomes primary. A no-op when another process promoted
    /// it already.
    @discardableResult
    public func promote(_ version: UInt32) async throws -> Keyring {
        install(try await manager.promote(version))
    }

    /// How many times an open met a version this process had not loaded yet, which a re-read of the
    /// keyring then found (``openRefreshingKeyring(_:context:)``): with two-phase rotation this stays 0.
    public var unknownVersionReloadCount: Int { unknownVersionReloads.load(ordering: .relaxed) }

    /// Rotates when the primary is older than the rotation period or has reached its seal limit; with
    /// ``Configuration/rotatesInTwoPhases`` it publishes instead (``publishIfDue()``).
    ///
    /// - Returns: Whether a rotation (or publication) happened (here or, just before, in another process).
    @discardableResult
    public func rotateIfDue() async throws -> Bool {
        if configuration.rotatesInTwoPhases { return try await publishIfDue() }
        let before = keyring.primaryVersion
        let after = install(try await manager.rotateIfDue().keyring)
        return after.primaryVersion != before
    }

    /// Retires every version below `version`: they no longer open anything. Refused for the primary.
    @discardableResult
    public func retire(below version: UInt32) async throws -> Keyring {
        install(try await manager.retire(below: version))
    }

    /// Lowers the minimum decryption version back to `version` (none of the versions may be destroyed).
    @discardableResult
    public func restore(from version: UInt32) async throws -> Keyring {
        install(try await manager.restore(from: version))
    }

    /// Destroys a retired version's key material. Irreversible: its ciphertexts can never be opened.
    @discardableResult
    public func destroy(version: UInt32) async throws -> Keyring {
        install(try await manager.destroy(version: version))
    }

    /// Re-reads the keyring from the store, picking up changes made by other processes.
    @discardableResult
    public func refresh() async throws -> Keyring {
        install(try await manager.reload())
    }

    /// Keeps the keyring current until cancelled: every `interval`, re-reads the store and rotates if due.
    ///
    /// A failed check is retried at the next interval rather than ending the loop; `onError` hears of it.
    public func runMaintenance<C: Clock<Duration>>(
        every interval: Duration,
        clock: C = ContinuousClock(),
        onError: @Sendable (any Error) -> Void = { _ in }
    ) async throws {
        while true {
            try await clock.sleep(for: interval)
            do {
                try await refresh()
                if configuration.rotatesWhenDue { try await rotateIfDue() }
            } catch {
                onError(error)
            }
        }
    }

    /// Gives back this process's unused seal reservations, so the stored counts become exact.
    public func close() async throws {
        let unused = state.withLock { state in
            state.ledger.drainUnused()
        }
        try await manager.releaseSeals(unused)
    }

    // MARK: Helpers

    /// Installs `keyring` unless a newer snapshot is already installed; returns the installed one.
    @discardableResult
    private func install(_ keyring: Keyring) -> Keyring {
        let policy = configuration.policy
        return state.withLock { state in
            if keyring.generation > state.keyring.generation {
                state.keyring = keyring
                state.rotationDue = Self.rotationDue(keyring, policy)
                state.primaryKey = keyring.dataKeys[keyring.primaryVersion]
            }
            return state.keyring
        }
    }

    private static func rotationDue(_ keyring: Keyring, _ policy: KeyringPolicy) -> Date {
        keyring.primary.created.addingTimeInterval(policy.rotationPeriod)
    }

    private func checkedContext(_ context: String) throws(WardenCryptoError) -> String.UTF8View {
        let utf8 = context.utf8
        guard !utf8.isEmpty, utf8.count <= configuration.maxContextBytes else {
            throw WardenCryptoError(.invalidContext, "the context must be 1 to \(configuration.maxContextBytes) bytes of UTF-8")
        }
        return utf8
    }

    private func tooLarge(_ count: Int) -> WardenCryptoError {
        WardenCryptoError(.tooLarge, "the ciphertext is \(count) bytes, more than the plaintext limit of \(configuration.maxPlaintextBytes) bytes allows")
    }

    private func failure(_ format: String, _ reason: DecryptionFailure.Reason, _ context: String) -> WardenCryptoError {
        configuration.failureObserver?(DecryptionFailure(format: format, reason: reason, context: context))
        return .decryptionFailed
    }
}
