public import Foundation
import WardenCore

/// The persisted form of a keyring: what a ``KeyringStore`` saves and loads.
///
/// Stores treat it as an opaque value (the file store writes it as JSON; the SQL stores will keep the same
/// JSON). Data keys are present only wrapped under the master key, and the whole document is authenticated
/// with a MAC under a key derived from the master key, so editing any field (a state, a counter, the
/// minimum decryption version) is detected when the keyring is loaded. `docs/formats.md` describes it.
public struct KeyringDocument: Codable, Sendable, Equatable {
    /// The document format this code writes.
    public static let currentFormat = 1

    /// One key version.
    public struct Entry: Codable, Sendable, Equatable {
        /// The version number (1, 2, ...).
        public internal(set) var version: UInt32
        /// When the version was created (whole seconds, UTC).
        public internal(set) var created: Date
        /// Seals reserved under this version by all processes: an upper bound on seals performed, exact
        /// once every process has shut down cleanly.
        public internal(set) var sealsReserved: UInt64
        /// Base64 of nonce ‖ wrapped key ‖ tag (AES-256-GCM under the wrapping key); absent once destroyed.
        public internal(set) var wrappedKey: String?
        /// When the key material was destroyed.
        public internal(set) var destroyed: Date?
    }

    /// The document format.
    public internal(set) var format: Int
    /// Incremented by every change; lets a node notice another node's change cheaply.
    public internal(set) var generation: UInt64
    /// Base64 check value derived from the master key.
    public internal(set) var masterKeyCheck: String
    /// The version that seals.
    public internal(set) var primaryVersion: UInt32
    /// Versions below this one are retired: they no longer open anything.
    public internal(set) var minimumDecryptionVersion: UInt32
    /// Every version ever created, ascending.
    public internal(set) var versions: [Entry]
    /// Base64 HMAC-SHA256 over the canonical encoding of all other fields.
    public internal(set) var mac: String

    /// Decodes a document from its JSON form.
    ///
    /// - Throws: ``WardenCryptoError/Code/keyringCorrupt`` if the JSON does not describe a document.
    public init(json: some DataProtocol) throws(WardenCryptoError) {
        do {
            self = try Self.decoder.decode(KeyringDocument.self, from: Data(json))
        } catch {
            throw WardenCryptoError(.keyringCorrupt, "the keyring document cannot be parsed")
        }
        guard format == Self.currentFormat else {
            throw WardenCryptoError(.keyringCorrupt, "the keyring document has format \(format); this Warden reads format \(Self.currentFormat)")
        }
    }

    /// The JSON form (sorted keys, human-readable).
    public func json() -> Data {
        // Force-try: encoding plain values to JSON cannot fail.
        try! Self.encoder.encode(self)
    }

    init(format: Int, generation: UInt64, masterKeyCheck: String, primaryVersion: UInt32, minimumDecryptionVersion: UInt32, versions: [Entry], mac: String) {
        self.format = format
        self.generation = generation
        self.masterKeyCheck = masterKeyCheck
        self.primaryVersion = primaryVersion
        self.minimumDecryptionVersion = minimumDecryptionVersion
        self.versions = versions
        self.mac = mac
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
