public import Foundation

/// A token signing key as stored: its Ed25519 private key sealed with Warden's field encryption
/// (context `signing-keys/<kid>`), so a leaked store does not leak the key.
public struct SigningKeyRecord: Sendable, Hashable {
    public let kid: String
    public let created: Date
    /// When a newer key took over signing. The key keeps verifying for the longest token lifetime after.
    public var retired: Date?
    public let sealedPrivateKey: String
    /// When the key began to sign; `nil` while it is published only (in the JWKS and verifying, signing
    /// nothing) during a two-phase rotation.
    public var signsFrom: Date?

    /// A key that signs from its creation.
    public init(kid: String, created: Date, retired: Date?, sealedPrivateKey: String) {
        self.init(kid: kid, created: created, retired: retired, sealedPrivateKey: sealedPrivateKey, signsFrom: created)
    }

    public init(kid: String, created: Date, retired: Date?, sealedPrivateKey: String, signsFrom: Date?) {
        self.kid = kid
        self.created = created
        self.retired = retired
        self.sealedPrivateKey = sealedPrivateKey
        self.signsFrom = signsFrom
    }

    /// Published by a two-phase rotation and not signing yet.
    public var isPublishedOnly: Bool { signsFrom == nil && retired == nil }
}

/// Where signing keys live (SQL in Warden; memory in tests).
public protocol SigningKeyStore: Sendable {
    /// Every key not yet deleted, oldest first.
    func signingKeys() async throws -> [SigningKeyRecord]
    /// Adds `key` and, in the same transaction, marks every other unretired key retired at `key.created`.
    /// Nothing is added if another node added a key at or after `ifNoneSince` (so concurrent rotations make one key).
    /// - Returns: Whether the key was added.
    func addSigningKey(_ key: SigningKeyRecord, ifNoneSince: Date) async throws -> Bool
    /// Deletes keys retired before `date`; returns how many.
    func deleteSigningKeys(retiredBefore date: Date) async throws -> Int
    /// Adds `key` (whose `signsFrom` is nil) as published only: it verifies but does not sign. Nothing is
    /// added while another key is published only (so concurrent rotations publish one key).
    /// - Returns: Whether the key was added.
    func publishSigningKey(_ key: SigningKeyRecord) async throws -> Bool
    /// Makes the published key `kid` sign from `date`, retiring the key that signed until then, in one
    /// transaction. - Returns: false (nothing changed) when `kid` is not published only any more.
    func promoteSigningKey(kid: String, at date: Date) async throws -> Bool
}

/// Signing keys in memory (tests).
public actor MemorySigningKeyStore: SigningKeyStore {
    private var keys: [SigningKeyRecord] = []

    public init() {}

    public func signingKeys() -> [SigningKeyRecord] { keys }

    public func addSigningKey(_ key: SigningKeyRecord, ifNoneSince: Date) -> Bool {
        guard !keys.contains(where: { $0.created >= ifNoneSince }) else { return false }
        for index in keys.indices where keys[index].retired == nil { keys[index].retired = key.created }
        keys.append(key)
        return true
    }

    public func publishSigningKey(_ key: SigningKeyRecord) -> Bool {
        guard !keys.contains(where: \.isPublishedOnly) else { return false }
        var key = key
        key.signsFrom = nil
        keys.append(key)
        return true
    }

    public func promoteSigningKey(kid: String, at date: Date) -> Bool {
        guard let index = keys.firstIndex(where: { $0.kid == kid && $0.isPublishedOnly }) else { return false }
        for other in keys.indices where keys[other].retired == nil && keys[other].signsFrom != nil { keys[other].retired = date }
        keys[index].signsFrom = date
        return true
    }

    public func deleteSigningKeys(retiredBefore date: Date) -> Int {
        let before = keys.count
        keys.removeAll { $0.retired.map { $0 < date } ?? false }
        return before - keys.count
    }
}
