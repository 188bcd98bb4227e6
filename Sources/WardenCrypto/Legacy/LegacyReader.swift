import Crypto
import Foundation
import Synchronization
import WardenCore

/// Opens data written by the original system, caching the keys it derives.
///
/// Every legacy key is derived with PBKDF2 at 100,000 rounds, so derived keys are cached: the
/// digital-twin Fernet key once, JSON envelope version keys in a cache of fixed size that evicts its least
/// recently used key when full (the original derived and cached a key for any string it was shown; here
/// only well-formed, allowed versions are derived, the cache cannot grow, and a key in use is not evicted
/// by others being derived).
///
/// - Important: The asynchronous `open` methods run derivations on dedicated worker threads (the ones
///   a ``PasswordHasher`` without threads of its own uses), never on Swift's cooperative pool, where tens of milliseconds of PBKDF2
///   per request would stall every other task. The synchronous ones derive on the calling thread, for
///   callers outside a server (the command line).
final class LegacyReader: Sendable {
    enum Outcome: Sendable {
        case opened(Data, OpenedField.Source)
        case failed(DecryptionFailure.Reason)
    }

    static let versionCacheLimit = 256

    let keys: LegacyKeys
    private let threads: WorkerThreads
    private let deriveVersionKey: @Sendable (String) -> SymmetricKey?
    private let twinKey: Mutex<FernetKey??> = Mutex(nil)
    private let versionKeys = Mutex(RecentlyUsedCache<String, SymmetricKey>(capacity: versionCacheLimit))

    /// - Parameters:
    ///   - threads: Where derivations run for the asynchronous methods (default: the password hasher's).
    ///   - deriveVersionKey: The JSON envelope key derivation (default ``LegacyKeys``'s PBKDF2); tests
    ///     replace it to observe or hold derivations.
    init(keys: LegacyKeys, threads: WorkerThreads = PasswordHasher.sharedThreads, deriveVersionKey: (@Sendable (String) -> SymmetricKey?)? = nil) {
        self.keys = keys
        self.threads = threads
        self.deriveVersionKey = deriveVersionKey ?? { [keys] in keys.deriveVersionKey($0) }
    }

    /// Opens a JSON envelope, deriving its version's key on the calling thread if it is not cached.
    func openJSON(_ bytes: some DataProtocol) throws(WardenCryptoError) -> Outcome {
        let envelope: LegacyJSONEnvelope
        switch try checkJSON(bytes) {
        case .refused(let outcome): return outcome
        case .envelope(let checked): envelope = checked
        }
        if let key = cachedVersionKey(envelope.version) { return open(envelope, key: key) }
        guard let key = deriveVersionKey(envelope.version) else { return .failed(.invalidLegacyVersion) }
        cache(key, for: envelope.version)
        return open(envelope, key: key)
    }

    /// Opens a JSON envelope, deriving its version's key on a worker thread if it is not cached.
    func openJSONOffPool(_ bytes: Data) async throws(WardenCryptoError) -> Outcome {
        let envelope: LegacyJSONEnvelope
        switch try checkJSON(bytes) {
        case .refused(let outcome): return outcome
        case .envelope(let checked): envelope = checked
        }
        let version = envelope.version
        if let key = cachedVersionKey(version) { return open(envelope, key: key) }
        let derive = deriveVersionKey
        // `try?` flattens: nil when there is no master key (or the job could not run).
        guard let key = try? await threads.run({ derive(version) }) else { return .failed(.invalidLegacyVersion) }
        cache(key, for: version)
        return open(envelope, key: key)
    }

    /// A JSON envelope worth a key derivation: well formed, with an allowed version.
    private enum Checked {
        case envelope(LegacyJSONEnvelope)
        case refused(Outcome)
    }

    private func checkJSON(_ bytes: some DataProtocol) throws(WardenCryptoError) -> Checked {
        guard keys.masterKey != nil else {
            throw WardenCryptoError(.legacyKeyMissing, "this is a legacy JSON envelope; opening it needs DIGITAL_TWIN_MASTER_KEY (or WARDEN_LEGACY_MASTER_KEY)")
        }
        guard let envelope = LegacyJSONEnvelope(json: bytes) else { return .refused(.failed(.malformed)) }
        guard LegacyJSONEnvelope.versionIsValid(envelope.version), keys.allowedVersions?.contains(envelope.version) ?? true else {
            return .refused(.failed(.invalidLegacyVersion))
        }
        return .envelope(envelope)
    }

    private func open(_ envelope: LegacyJSONEnvelope, key: SymmetricKey) -> Outcome {
        guard let nonce = try? AES.GCM.Nonce(data: envelope.iv),
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: envelope.ciphertext, tag: envelope.tag),
            let plaintext = try? AES.GCM.open(box, using: key)
        else { return .failed(.authenticationFailed) }
        return .opened(plaintext, .legacyJSON(version: envelope.version))
    }

    /// Opens a Fernet token, deriving the digital-twin key (once per process) on a worker thread if it
    /// is needed and not derived yet.
    func openFernetOffPool(_ text: Data, now: Date) async throws(WardenCryptoError) -> Outcome {
        if keys.twinKeyMaterial != nil, twinKey.withLock({ $0 }) == nil {
            let keys = keys
            let derived = try? await threads.run { keys.deriveTwinFernetKey() }
            twinKey.withLock { $0 = .some(derived) }
        }
        return try openFernet(text, now: now)
    }

    /// Opens a Fernet token written either with `DIGITAL_TWIN_ENCRYPTION_KEY` as the Fernet key, or by the
    /// digital-twin database with the key derived from it; the HMAC decides which.
    ///
    /// - Parameter keepingWrapper: Return a digital-twin token's whole JSON wrapper (`data` and `meta`)
    ///   instead of its `data` string.
    func openFernet(_ text: some Collection<UInt8>, now: Date, keepingWrapper: Bool = false) throws(WardenCryptoError) -> Outcome {
        guard keys.fernetKey != nil || keys.twinKeyMaterial != nil else {
            throw WardenCryptoError(.legacyKeyMissing, "this is a legacy Fernet token; opening it needs DIGITAL_TWIN_ENCRYPTION_KEY (or WARDEN_LEGACY_ENCRYPTION_KEY)")
        }
        guard let token = Fernet.Token(text: text) else { return .failed(.malformed) }
        let key: FernetKey
        let isTwin: Bool
        if let raw = keys.fernetKey, token.isAuthentic(under: raw) {
            (key, isTwin) = (raw, false)
        } else if let twin = twinFernetKey(), token.isAuthentic(under: twin) {
            (key, isTwin) = (twin, true)
        } else {
            return .failed(.authenticationFailed)
        }
        let plaintext: Data
        do {
            plaintext = try Fernet.decrypt(token, key: key, now: now, ttl: keys.fernetTimeToLive)
        } catch {
            switch error {
            case .expired: return .failed(.expired)
            case .timestampInFuture: return .failed(.timestampInFuture)
            case .authenticationFailed, .malformed: return .failed(.malformed)
            }
        }
        guard isTwin else { return .opened(plaintext, .legacyFernet) }
        if keepingWrapper {
            guard (try? JSONSerialization.jsonObject(with: plaintext) as? [String: Any])?["data"] is String else { return .failed(.invalidPayload) }
            return .opened(plaintext, .legacyTwinFernet)
        }
        // The digital-twin database wrapped each value as {"data": str(value), "meta": {...}}.
        guard let object = try? JSONSerialization.jsonObject(with: plaintext) as? [String: Any],
            let value = object["data"] as? String
        else { return .failed(.invalidPayload) }
        return .opened(Data(value.utf8), .legacyTwinFernet)
    }

    /// Checks a Fernet token's structure, HMAC and time limits without decrypting it; says which key wrote
    /// it (raw Fernet or digital-twin).
    func authenticateFernet(_ text: some Collection<UInt8>, now: Date) throws(WardenCryptoError) -> Outcome {
        guard keys.fernetKey != nil || keys.twinKeyMaterial != nil else {
            throw WardenCryptoError(.legacyKeyMissing, "this is a legacy Fernet token; opening it needs DIGITAL_TWIN_ENCRYPTION_KEY (or WARDEN_LEGACY_ENCRYPTION_KEY)")
        }
        guard let token = Fernet.Token(text: text) else { return .failed(.malformed) }
        let source: OpenedField.Source
        if let raw = keys.fernetKey, token.isAuthentic(under: raw) {
            source = .legacyFernet
        } else if let twin = twinFernetKey(), token.isAuthentic(under: twin) {
            source = .legacyTwinFernet
        } else {
            return .failed(.authenticationFailed)
        }
        let timestamp = TimeInterval(token.timestamp)
        let current = now.timeIntervalSince1970.rounded(.down)
        if let ttl = keys.fernetTimeToLive, timestamp + ttl < current { return .failed(.expired) }
        if timestamp > current + Fernet.maxClockSkew { return .failed(.timestampInFuture) }
        return .opened(Data(), source)
    }

    /// How many JSON envelope version keys are cached.
    var cachedVersionCount: Int { versionKeys.withLock { $0.count } }

    private func twinFernetKey() -> FernetKey? {
        if let cached = twinKey.withLock({ $0 }) { return cached }
        let derived = keys.deriveTwinFernetKey()
        twinKey.withLock { $0 = .some(derived) }
        return derived
    }

    private func cachedVersionKey(_ version: String) -> SymmetricKey? {
        versionKeys.withLock { $0.value(for: version) }
    }

    private func cache(_ key: SymmetricKey, for version: String) {
        versionKeys.withLock { $0.insert(key, for: version) }
    }
}
