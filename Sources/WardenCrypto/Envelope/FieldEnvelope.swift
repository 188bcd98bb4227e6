public import Foundation
import WardenCore

/// A sealed field: AES-256-GCM ciphertext with a self-describing header.
///
/// Binary form (all integers big-endian):
///
/// ```
/// offset  size  field
///      0     1  magic 0x57 ("W")
///      1     1  format version (1)
///      2     4  key version (1 ... 2^32-1)
///      6    12  nonce (random)
///     18     n  ciphertext (n = plaintext length)
///   18+n    16  GCM tag
/// ```
///
/// The six header bytes followed by the UTF-8 context are the GCM associated data, so editing the key
/// version, or presenting the ciphertext under another context, makes it fail to open.
///
/// Text form: `wd1:<key version in decimal>:<base64url, unpadded, of nonce ‖ ciphertext ‖ tag>`, for
/// text columns and JSON. Both forms carry the same bytes and open the same way; `docs/formats.md` has
/// test vectors.
public struct FieldEnvelope: Sendable, Hashable {
    /// The first byte of every binary envelope.
    public static let magic: UInt8 = 0x57
    /// The envelope format this code writes and reads.
    public static let formatVersion: UInt8 = 1
    /// The prefix of the text form for ``formatVersion``.
    public static let textPrefix = "wd1:"
    static let headerSize = 6
    static let nonceSize = 12
    static let tagSize = 16
    /// Bytes an envelope adds to its plaintext.
    public static let overhead = headerSize + nonceSize + tagSize

    /// The key version that sealed this envelope.
    public let keyVersion: UInt32
    /// The binary form.
    public let binary: Data

    init(keyVersion: UInt32, binary: Data) {
        self.keyVersion = keyVersion
        self.binary = binary
    }

    /// Parses the binary form.
    ///
    /// - Throws: ``WardenCryptoError/decryptionFailed`` for anything but a well-formed envelope of this
    ///   format version.
    public init(binary: some DataProtocol) throws(WardenCryptoError) {
        let bytes = Data(binary)
        guard let version = Self.parseHeader(bytes), bytes.count >= Self.overhead else {
            throw .decryptionFailed
        }
        self.init(keyVersion: version, binary: bytes)
    }

    /// Parses the text form strictly: exact prefix, canonical decimal key version, canonical unpadded
    /// base64url, and at least a nonce and a tag.
    ///
    /// - Throws: ``WardenCryptoError/decryptionFailed`` for anything else.
    public init(text: some StringProtocol) throws(WardenCryptoError) {
        var text = String(text)
        let parsed = text.withUTF8 { Self.parseText($0) }
        guard let parsed else { throw .decryptionFailed }
        self = parsed
    }

    /// The text form.
    public var text: String {
        binary.withUnsafeBytes { binary in
            Base64.encode(
                UnsafeRawBufferPointer(rebasing: binary[Self.headerSize...]), alphabet: .url, padded: false, after: Self.textPrefix + String(keyVersion) + ":")
        }
    }

    /// The header bytes: magic, format version and key version.
    static func header(keyVersion: UInt32) -> [UInt8] {
        [
            magic, formatVersion,
            UInt8(truncatingIfNeeded: keyVersion >> 24), UInt8(truncatingIfNeeded: keyVersion >> 16),
            UInt8(truncatingIfNeeded: keyVersion >> 8), UInt8(truncatingIfNeeded: keyVersion),
        ]
    }

    /// The key version named by a binary header, or `nil` if `bytes` does not start with a valid header.
    static func parseHeader(_ bytes: some Collection<UInt8>) -> UInt32? {
        guard bytes.count >= headerSize else { return nil }
        var iterator = bytes.makeIterator()
        guard iterator.next() == magic, iterator.next() == formatVersion else { return nil }
        var version: UInt32 = 0
        for _ in 0..<4 { version = version << 8 | UInt32(iterator.next()!) }
        return version == 0 ? nil : version
    }

    private static func parseText(_ utf8: UnsafeBufferPointer<UInt8>) -> FieldEnvelope? {
        let prefix = textPrefix.utf8
        guard utf8.count > prefix.count, utf8[0..<prefix.count].elementsEqual(prefix) else { return nil }
        var index = prefix.count
        var version: UInt64 = 0
        let digitsStart = index
        while index < utf8.count, utf8[index] != UInt8(ascii: ":") {
            let digit = utf8[index]
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            version = version * 10 + UInt64(digit - UInt8(ascii: "0"))
            guard version <= UInt32.max, index - digitsStart < 10 else { return nil }
            index += 1
        }
        let digitCount = index - digitsStart
        guard digitCount > 0, index < utf8.count, version > 0 else { return nil }
        guard digitCount == 1 || utf8[digitsStart] != UInt8(ascii: "0") else { return nil }
        guard let body = Base64.decode(utf8: utf8[(index + 1)...], alphabet: .url, padding: .forbidden),
            body.count >= nonceSize + tagSize
        else { return nil }
        var binary = Data(capacity: headerSize + body.count)
        binary.append(contentsOf: header(keyVersion: UInt32(version)))
        binary.append(contentsOf: body)
        return FieldEnvelope(keyVersion: UInt32(version), binary: binary)
    }
}
