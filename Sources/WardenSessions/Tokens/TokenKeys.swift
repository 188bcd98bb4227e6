import Crypto
public import Foundation
import JWTKit
import Synchronization
public import WardenCore
public import WardenCrypto

/// The Ed25519 keys that sign and verify tokens: one signs, older ones keep verifying during the overlap.
///
/// Keys are generated here, stored sealed (``SigningKeyStore``), and rotated when the signing key is older
/// than the rotation period. A retired key stays in the JWKS document and keeps verifying for the
/// longest token lifetime, then is deleted.
///
/// - Important: Re-reading the store is single-flight: callers of ``refresh()`` and `refreshIfStale`
///   arriving while a read is under way wait for it instead of starting their own (a burst of tokens
///   naming a new `kid` costs one store read, not one per token). A key set is installed only if it is
///   not older than the one held — by the newest key's creation time, then by the order reads started —
///   so a slow read that a rotation overtook is discarded instead of reinstalling the old keys.
public actor TokenKeys {
    struct Key {
        let record: SigningKeyRecord
        let privateKey: Curve25519.Signing.PrivateKey
    }

    /// One read of the store, ready to install.
    private struct KeySet {
        let keys: [String: Key]
        let collection: JWTKeyCollection
        let generation: Generation
        let readAt: Date
    }

    /// How recent a key set is: the newest key in the store when it was read (keys are only ever added
    /// newer, and rotation retires the rest), then the order in which reads started.
    private struct Generation: Comparable {
        let newestKey: Date
        let read: Int

        static func < (a: Generation, b: Generation) -> Bool {
            (a.newestKey, a.read) < (b.newestKey, b.read)
        }
    }

    let store: any SigningKeyStore
    let cipher: FieldCipher
    let rotationPeriod: TimeInterval
    let overlap: TimeInterval
    let clock: any WallClock
    /// Whether a due rotation only publishes a key (see ``publish()``), for key sets shared by nodes.
    public let rotatesInTwoPhases: Bool
    private(set) var keys: [String: Key] = [:]
    /// The key that signs new tokens.
    public private(set) var signingKID: String?
    private(set) var collection = JWTKeyCollection()
    private var lastRefresh: Date?
    /// The generation of the installed key set.
    private var installed: Generation?
    /// Reads started so far (numbers the reads).
    private var readsStarted = 0
    /// The shared read that `refresh` and `refreshIfStale` callers wait for, while one is under way.
    private var sharedRead: Task<Void, any Error>?
    /// Callers that waited for a read another caller started (tests check the sharing with it).
    private(set) var joinedReads = 0
    /// The verifying keys by `kid`, readable without entering the actor: verification is the hot path
    /// and must run in parallel.
    private nonisolated let verifiers = Mutex<[String: Curve25519.Signing.PublicKey]>([:])
    private nonisolated let unknownKIDReloads = Atomic<Int>(0)

    /// - Parameters:
    ///   - rotationPeriod: Age at which a new signing key is made (default 30 days).
    ///   - overlap: How long a retired key keeps verifying: at least the longest token lifetime.
    ///   - rotatesInTwoPhases: A due rotation publishes a key (verifying, in the JWKS, not signing) and
    ///     something that knows every node promotes it (``promote(_:)``) once they have all loaded it.
    public init(
        store: any SigningKeyStore, cipher: FieldCipher, rotationPeriod: TimeInterval = 30 * 86_400, overlap: TimeInterval,
        clock: any WallClock = SystemWallClock(), rotatesInTwoPhases: Bool = false
    ) {
        self.rotatesInTwoPhases = rotatesInTwoPhases
        self.store = store
        self.cipher = cipher
        self.rotationPeriod = rotationPeriod
        self.overlap = overlap
        self.clock = clock
    }

    /// Loads the keys, creating the first one or rotating when due (publishing, in two phases).
    public func load() async throws {
        try await reload()
        if signingKID == nil {
            try await rotate()
        } else if isDue() {
            try await rotateWhenDue()
        }
    }

    /// Makes a new signing key now (the previous one keeps verifying during the overlap): the published
    /// key if there is one, else a new one.
    public func rotate() async throws {
        if let published = publishedKID {
            try await promote(published)
            return
        }
        let now = clock.now()
        let privateKey = Curve25519.Signing.PrivateKey()
        let kid = SessionID.make().prefix(16).description
        let sealed = try await cipher.seal(privateKey.rawRepresentation, context: "signing-keys/\(kid)").text
        _ = try await store.addSigningKey(
            SigningKeyRecord(kid: kid, created: now, retired: nil, sealedPrivateKey: sealed),
            ifNoneSince: signingKID.flatMap { keys[$0]?.record.created.addingTimeInterval(1) } ?? .distantPast)
        _ = try await store.deleteSigningKeys(retiredBefore: now.addingTimeInterval(-overlap))
        try await reload()
    }

    /// The first phase of a two-phase rotation: stores a new key that verifies (and is in the JWKS) on
    /// every node that has re-read the store, and signs nothing until ``promote(_:)``. A no-op while a
    /// key is published already.
    public func publish() async throws {
        guard publishedKID == nil else { return }
        let now = clock.now()
        let privateKey = Curve25519.Signing.PrivateKey()
        let kid = SessionID.make().prefix(16).description
        let sealed = try await cipher.seal(privateKey.rawRepresentation, context: "signing-keys/\(kid)").text
        _ = try await store.publishSigningKey(SigningKeyRecord(kid: kid, created: now, retired: nil, sealedPrivateKey: sealed, signsFrom: nil))
        try await reload()
    }

    /// The second phase: the published key `kid` signs from now on, and the key that signed until now is
    /// retired (it keeps verifying during the overlap). A no-op when another node promoted it already.
    public func promote(_ kid: String) async throws {
        let now = clock.now()
        _ = try await store.promoteSigningKey(kid: kid, at: now)
        _ = try await store.deleteSigningKeys(retiredBefore: now.addingTimeInterval(-overlap))
        try await reload()
    }

    /// The key published by a two-phase rotation and not signing yet, if any.
    public var publishedKID: String? {
        keys.values.filter { $0.record.isPublishedOnly }.max { $0.record.created < $1.record.created }?.record.kid
    }

    /// When the published key was published.
    public var publishedSince: Date? {
        publishedKID.flatMap { keys[$0]?.record.created }
    }

    /// Every `kid` this node verifies: what it acknowledges having loaded.
    public var loadedKIDs: [String] { keys.keys.sorted() }

    /// How many tokens named a `kid` this node had not loaded yet, which a re-read of the store then
    /// found: with two-phase rotation this stays 0.
    public nonisolated var unknownKIDReloadCount: Int { unknownKIDReloads.load(ordering: .relaxed) }

    nonisolated func countUnknownKID() { unknownKIDReloads.add(1, ordering: .relaxed) }

    /// Re-reads the store (keys made by other nodes); rotates when due (publishes, in two phases).
    ///
    /// A caller arriving while another's read is under way shares it (its result may predate the call by
    /// the length of one read).
    public func refresh() async throws {
        try await sharedReload()
        if isDue() { try await rotateWhenDue() }
    }

    /// Re-reads the store, never rotating (the two-phase rollout decides when).
    public func reloadOnly() async throws {
        try await sharedReload()
    }

    /// Whether the signing key has reached the rotation period.
    public var rotationDue: Bool { isDue() }

    private func rotateWhenDue() async throws {
        if rotatesInTwoPhases { try await publish() } else { try await rotate() }
    }

    /// Re-reads the store at most once every `interval`, for a token naming a key not seen yet; callers
    /// arriving while a read is under way share it.
    func refreshIfStale(interval: TimeInterval = 5) async throws {
        if let lastRefresh, clock.now().timeIntervalSince(lastRefresh) < interval { return }
        try await sharedReload()
    }

    /// Waits for the read under way, or starts one that later callers wait for.
    private func sharedReload() async throws {
        if let sharedRead {
            joinedReads += 1
            return try await sharedRead.value
        }
        let read = Task { try await self.reload() }
        sharedRead = read
        defer { if sharedRead == read { sharedRead = nil } }
        try await read.value
    }

    /// The public key that `kid` names, if Warden holds it.
    nonisolated func verifier(_ kid: String) -> Curve25519.Signing.PublicKey? {
        verifiers.withLock { $0[kid] }
    }

    /// The public keys, as a JWKS document (RFC 7517, OKP / Ed25519 per RFC 8037).
    public func jwks() -> Data {
        let entries = keys.values.sorted { $0.record.created > $1.record.created }.map { key -> [String: String] in
            [
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": key.record.kid,
                "x": Base64.encode(key.privateKey.publicKey.rawRepresentation, alphabet: .url, padded: false),
            ]
        }
        // Force-try: string dictionaries always serialise.
        return try! JSONSerialization.data(withJSONObject: ["keys": entries], options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private func isDue() -> Bool {
        guard let signingKID, let key = keys[signingKID] else { return true }
        return clock.now() >= key.record.created.addingTimeInterval(rotationPeriod)
    }

    /// Reads the store and installs what it holds, unless a newer key set was installed meanwhile.
    private func reload() async throws {
        install(try await read())
    }

    private func read() async throws -> KeySet {
        readsStarted += 1
        let number = readsStarted
        let now = clock.now()
        let records = try await store.signingKeys()
        var loaded: [String: Key] = [:]
        for record in records where record.retired.map({ $0.addingTimeInterval(overlap) > now }) ?? true {
            let opened = try await cipher.openRefreshingKeyring(record.sealedPrivateKey, context: "signing-keys/\(record.kid)")
            loaded[record.kid] = Key(record: record, privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: opened.plaintext))
        }
        let newCollection = JWTKeyCollection()
        for key in loaded.values {
            await newCollection.add(eddsa: EdDSA.PrivateKey(backing: key.privateKey), kid: JWKIdentifier(string: key.record.kid))
        }
        // jwt-kit makes the first key added the default and verifies tokens with an unknown `kid` with it.
        _ = await newCollection.clearDefault()
        let newest = records.map(\.created).max() ?? .distantPast
        return KeySet(keys: loaded, collection: newCollection, generation: Generation(newestKey: newest, read: number), readAt: now)
    }

    /// Installs `set` unless the installed one is newer (a rotation, or a later read, overtook it).
    private func install(_ set: KeySet) {
        if let installed, set.generation < installed { return }
        keys = set.keys
        signingKID = set.keys.values.filter { $0.record.retired == nil && $0.record.signsFrom != nil }.max { $0.record.created < $1.record.created }?.record.kid
        collection = set.collection
        verifiers.withLock { $0 = set.keys.mapValues(\.privateKey.publicKey) }
        installed = set.generation
        lastRefresh = set.readAt
    }
}
