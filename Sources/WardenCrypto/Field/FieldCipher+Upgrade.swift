public import Foundation

/// A field opened for a lazy upgrade: its plaintext, what sealed it, and — unless it was already sealed
/// under the primary key version — the same value sealed anew, to write back in place of the stored one.
///
/// `Stored` is the representation the value was read in and is to be written back in: `String` (a text
/// envelope, `wd1:…`) or `Data` (a binary envelope).
public struct UpgradedField<Stored: Sendable>: Sendable {
    /// The plaintext.
    public let plaintext: Data
    /// What sealed the value that was read.
    public let source: OpenedField.Source
    /// The value sealed under the primary key version and bound to the context it was opened with, in
    /// the representation it was read in; `nil` when the stored value is already current.
    public let upgraded: Stored?
    /// The envelope behind ``upgraded`` (its key version, and both representations).
    public let envelope: FieldEnvelope?
}

extension FieldCipher {
    /// Opens a text ciphertext in any accepted format and, when it is not current, seals it again under
    /// the primary key version so the caller can write the upgrade back (lazy migration on read).
    /// `Examples/FieldEncryption` (compiled and run by the tests) shows a call.
    ///
    /// A value is current when it is a Warden envelope under the primary key version; then ``UpgradedField/upgraded``
    /// is `nil` and nothing is sealed. Legacy values (the original system's JSON envelopes and Fernet
    /// tokens, which bind no context) and envelopes under an older version come back sealed as a text
    /// envelope bound to `context`. Legacy key derivations run on Warden's worker threads, never on the
    /// cooperative pool (as ``openOffPool(_:context:)``), and a key version this process has not seen yet
    /// (another node rotated a moment ago) makes it re-read the keyring, as
    /// ``openRefreshingKeyring(_:context:)`` does.
    ///
    /// - Parameters:
    ///   - text: The stored value: a text envelope, a legacy JSON envelope or a Fernet token.
    ///   - context: Where the value lives. A Warden envelope opens only under the context it was sealed
    ///     with; the upgraded value is bound to this context.
    /// - Returns: The plaintext, its source, and the upgraded value (`nil` when current).
    /// - Throws: What ``openOffPool(_:context:)`` throws (``WardenCryptoError/Code/decryptionFailed`` for
    ///   any authentication or format problem, including a wrong context); what ``seal(_:context:)``
    ///   throws when the upgrade cannot be sealed. Nothing is returned unless both succeeded.
    ///
    /// - Important: Write the upgrade back conditionally (only where the stored value is still the one
    ///   read), or a concurrent update of the field can be overwritten with the older value. Until it is
    ///   written back, every read of a legacy or old-version value seals again and counts against the
    ///   primary's seal limit.
    public func openUpgrading(_ text: String, context: String) async throws -> UpgradedField<String> {
        try await openUpgrading(bytes: Data(text.utf8), context: context) { $0.text }
    }

    /// Opens a binary ciphertext in any accepted format and, when it is not current, seals it again under
    /// the primary key version, as a binary envelope, like ``openUpgrading(_:context:)-(String,_)``.
    ///
    /// The input may be a binary envelope, or the bytes of any text form (a `BLOB` column holding a
    /// Fernet token or a JSON envelope, as the original's databases did); the upgrade is always a binary
    /// envelope (``FieldEnvelope/binary``), for the same column.
    public func openUpgrading(_ ciphertext: some DataProtocol, context: String) async throws -> UpgradedField<Data> {
        try await openUpgrading(bytes: ciphertext as? Data ?? Data(ciphertext), context: context) { $0.binary }
    }

    private func openUpgrading<Stored: Sendable>(
        bytes: Data, context: String, representation: (FieldEnvelope) -> Stored
    ) async throws -> UpgradedField<Stored> {
        let opened = try await reopeningUnknownVersion { try await self.openOffPool(bytes: bytes, context: context) }
        guard opened.needsRewrap else {
            return UpgradedField(plaintext: opened.plaintext, source: opened.source, upgraded: nil, envelope: nil)
        }
        let envelope = try await seal(opened.plaintext, context: context)
        return UpgradedField(plaintext: opened.plaintext, source: opened.source, upgraded: representation(envelope), envelope: envelope)
    }
}
