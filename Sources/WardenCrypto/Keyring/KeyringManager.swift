import Foundation
import WardenCore

/// The one owner of change to a keyring.
///
/// Every change is a transaction on the store: the current document is read under the store's lock,
/// verified (check value, MAC), changed, re-authenticated and written. So changes made by other
/// processes are never lost, and a document edited outside Warden is refused rather than built upon.
/// After each change the manager hands out a fresh immutable ``Keyring`` snapshot.
actor KeyringManager {
    let store: any KeyringStore
    let masterKey: MasterKey
    let policy: KeyringPolicy
    let clock: any WallClock
    private(set) var keyring: Keyring

    private init(store: any KeyringStore, masterKey: MasterKey, policy: KeyringPolicy, clock: any WallClock, keyring: Keyring) {
        self.store = store
        self.masterKey = masterKey
        self.policy = policy
        self.clock = clock
        self.keyring = keyring
    }

    /// Loads the keyring from `store`, creating it (with version 1 as primary) when the store is empty.
    ///
    /// - Throws: ``WardenCryptoError/Code/wrongMasterKey`` before anything is written if the stored
    ///   keyring was created under another master key.
    static func open(store: any KeyringStore, masterKey: MasterKey, policy: KeyringPolicy, clock: any WallClock) async throws -> KeyringManager {
        if let existing = try await store.load() {
            let keyring = try Keyring(document: existing, masterKey: masterKey)
            return KeyringManager(store: store, masterKey: masterKey, policy: policy, clock: clock, keyring: keyring)
        }
        let now = clock.now()
        let (document, _) = try await store.update { document in
            if document == nil { document = try KeyringDocument.create(masterKey: masterKey, now: now) }
        }
        guard let document else { throw WardenCryptoError(.storeFailure, "the keyring store did not keep the new keyring") }
        let keyring = try Keyring(document: document, masterKey: masterKey)
        return KeyringManager(store: store, masterKey: masterKey, policy: policy, clock: clock, keyring: keyring)
    }

    /// Re-reads the store; picks up changes made by other processes.
    func reload() async throws -> Keyring {
        guard let document = try await store.load() else {
            throw WardenCryptoError(.keyringCorrupt, "the keyring has disappeared from its store")
        }
        if document.generation != keyring.generation {
            keyring = try Keyring(document: document, masterKey: masterKey)
        }
        return keyring
    }

    /// Creates a new version and makes it primary, unconditionally.
    func rotate() async throws -> Keyring {
        let now = clock.now()
        return try await change { document, masterKey in
            try document.addPrimary(masterKey: masterKey, now: now)
        }.keyring
    }

    /// Rotates if the primary is older than the rotation period or has reached the seal limit, judged
    /// on the stored state at the time of the change (so concurrent callers rotate once).
    func rotateIfDue() async throws -> (keyring: Keyring, rotated: Bool) {
        let now = clock.now()
        let policy = policy
        let (keyring, rotated) = try await change { document, masterKey in
            guard document.rotationDue(now: now, policy: policy) else { return false }
            try document.addPrimary(masterKey: masterKey, now: now)
            return true
        }
        return (keyring, rotated)
    }

    /// Publishes a new version (the first phase of a two-phase rotation), unless one is published already.
    func publish() async throws -> Keyring {
        let now = clock.now()
        return try await change { document, masterKey in
            _ = try document.publish(masterKey: masterKey, now: now)
        }.keyring
    }

    /// Publishes a new version if the primary is due for rotation and none is published yet.
    func publishIfDue() async throws -> (keyring: Keyring, published: Bool) {
        let now = clock.now()
        let policy = policy
        let (keyring, published) = try await change { document, masterKey in
            guard document.publishedVersion == nil, document.rotationDue(now: now, policy: policy) else { return false }
            _ = try document.publish(masterKey: masterKey, now: now)
            return true
        }
        return (keyring, published)
    }

    /// Makes the published `version` primary (the second phase); a no-op if it no longer waits.
    func promote(_ version: UInt32) async throws -> Keyring {
        try await change { document, _ in document.promote(version) }.keyring
    }

    func retire(below version: UInt32) async throws -> Keyring {
        try await change { document, _ in try document.retire(below: version) }.keyring
    }

    func restore(from version: UInt32) async throws -> Keyring {
        try await change { document, _ in try document.restore(from: version) }.keyring
    }

    func destroy(version: UInt32) async throws -> Keyring {
        let now = clock.now()
        return try await change { document, _ in try document.destroy(version: version, now: now) }.keyring
    }

    /// Reserves seals under `version`. When the version has reached the seal limit and `rotateIfExhausted`
    /// is set (the caller has no seals left), it is rotated in the same transaction and nothing is
    /// granted; the caller retries with the new primary.
    func reserveSeals(version: UInt32, rotateIfExhausted: Bool) async throws -> (keyring: Keyring, granted: UInt64) {
        let now = clock.now()
        let policy = policy
        let (keyring, granted) = try await change { document, masterKey in
            let granted = document.reserveSeals(version: version, count: policy.sealReservation, limit: policy.sealLimit)
            if granted == 0, rotateIfExhausted, document.primaryVersion == version {
                try document.addPrimary(masterKey: masterKey, now: now)
            }
            return granted
        }
        return (keyring, granted)
    }

    /// Returns unused reservations (on clean shutdown).
    func releaseSeals(_ unused: [UInt32: UInt64]) async throws {
        guard unused.values.contains(where: { $0 > 0 }) else { return }
        _ = try await change { document, _ in
            for (version, count) in unused { document.releaseSeals(version: version, count: count) }
        }
    }

    /// Applies `body` to the verified stored document in one store transaction, re-authenticates it, and
    /// installs the resulting snapshot.
    private func change<Result: Sendable>(
        _ body: @escaping @Sendable (inout KeyringDocument, MasterKey) throws -> Result
    ) async throws -> (keyring: Keyring, result: Result) {
        let masterKey = masterKey
        let (document, result) = try await store.update { stored -> Result in
            guard var document = stored else {
                throw WardenCryptoError(.keyringCorrupt, "the keyring has disappeared from its store")
            }
            try document.verify(with: masterKey)
            let before = document
            let result = try body(&document, masterKey)
            if document != before {
                document.reseal(with: masterKey)
                stored = document
            }
            return result
        }
        guard let document else { throw WardenCryptoError(.keyringCorrupt, "the keyring has disappeared from its store") }
        if document.generation != keyring.generation {
            keyring = try Keyring(document: document, masterKey: masterKey)
        }
        return (keyring, result)
    }
}
