import Crypto
import Foundation
import Synchronization

/// Opens data written by the original system, caching the keys it derives.
///
/// Every legacy key is derived with PBKDF2 at 100,000 rounds, so derived keys are cached: the
/// digital-twin Fernet key once, JSON envelope version keys in a bounded cache (the original derived and
/// cached a key for any string it was shown; here only well-formed, allowed versions are derived, and
/// the cache cannot grow without bound).
final class LegacyReader: Sendable {
    enum Outcome {
        case opened(Data, OpenedField.Source)
        case failed(DecryptionFailure.Reason)
    }

    static let versionCacheLimit = 256

    let keys: LegacyKeys
    private let twinKey: Mutex<FernetKey??> = Mutex(nil)
    private let versionKeys: Mutex<[String: SymmetricKey]> = Mutex([:])

    init(keys: LegacyKeys) {
        self.keys = keys
    }

    /// Opens a JSON envelope.
    func openJSON(_ bytes: some DataProtocol) throws(WardenCryptoError) -> Outcome {
        guard keys.masterKey != nil else {
            throw WardenCryptoError(.legacyKeyMissing, "this is a legacy JSON envelope; opening it needs DIGITAL_TWIN_MASTER_KEY (or WARDEN_LEGACY_MASTER_KEY)")
        }
        guard let envelope = LegacyJSONEnvelope(json: bytes) else { return .failed(.malformed) }
        guard LegacyJSONEnvelope.versionIsValid(envelope.version),
              keys.allowedVersions?.contains(envelope.version) ?? true,
              let key = versionKey(envelope.version)
        else { return .failed(.invalidLegacyVersion) }
        guard let nonce = try? AES.GCM.Nonce(data: envelope.iv),
              let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: envelope.ciphertext, tag: envelope.tag),
              let plaintext = try? AES.GCM.open(box, using: key)
        else { return .failed(.authenticationFailed) }
        return .opened(plaintext, .legacyJSON(version: envelope.version))
    }

    /// Opens a Fernet token written either with `DIGITAL_TWIN_ENCRYPTION_KEY` as the Fernet key, or by the
    /// digital-twin database with the key derived from it; the HMAC decides which.
    func openFernet(_ text: some Collection<UInt8>, now: Date) throws(WardenCryptoError) -> Outcome {
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
        // The digital-twin database wrapped each value as {"data": str(value), "meta": {...}}.
        guard let object = try? JSONSerialization.jsonObject(with: plaintext) as? [String: Any],
              let value = object["data"] as? String
        else { return .failed(.invalidPayload) }
        return .opened(Data(value.utf8), .legacyTwinFernet)
    }

    /// How many JSON envelope version keys are cached.
    var cachedVersionCount: Int { versionKeys.withLock { $0.count } }

    private func twinFernetKey() -> FernetKey? {
        if let cached = twinKey.withLock({ $0 }) { return cached }
        let derived = keys.deriveTwinFernetKey()
        twinKey.withLock { $0 = .some(derived) }
        return derived
    }

    private func versionKey(_ version: String) -> SymmetricKey? {
        if let cached = versionKeys.withLock({ $0[version] }) { return cached }
        // Derived outside the lock: a derivation takes tens of milliseconds.
        guard let key = keys.deriveVersionKey(version) else { return nil }
        versionKeys.withLock { cache in
            if cache.count >= Self.versionCacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[version] = key
        }
        return key
    }
}
