import Crypto
import CryptoExtras
import Foundation
import WardenCore

/// A Fernet key: 16 bytes for HMAC-SHA256 signing, then 16 bytes for AES-128-CBC.
struct FernetKey: Sendable {
    let signingKey: SymmetricKey
    let encryptionKey: SymmetricKey
    /// The signing key's HMAC states, computed once: a migration checks a million tokens under one key.
    let signing: PreparedHMAC

    /// From the 32 raw key bytes.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        let array = Array(bytes)
        signingKey = SymmetricKey(data: array[0..<16])
        encryptionKey = SymmetricKey(data: array[16..<32])
        signing = PreparedHMAC(hash: .sha256, key: Array(array[0..<16]))
    }
}

/// Fernet tokens (https://github.com/fernet/spec), read-only except for test vectors.
///
/// Token: base64url (padded) of `0x80 ‖ timestamp (8 bytes BE) ‖ IV (16) ‖ AES-128-CBC/PKCS#7 ciphertext ‖
/// HMAC-SHA256 (32)`. Opening checks the structure, then the HMAC in constant time, and only then the
/// timestamp and the ciphertext: nothing unauthenticated is decrypted, so there is no padding oracle.
enum Fernet {
    /// Future timestamps are accepted up to this far ahead (the specification's clock skew).
    static let maxClockSkew: TimeInterval = 60
    static let version: UInt8 = 0x80
    static let minimumLength = 1 + 8 + 16 + 16 + 32

    /// A decoded, structurally valid token whose HMAC has not been checked yet.
    struct Token {
        let bytes: [UInt8]
        var signedPart: ArraySlice<UInt8> { bytes[0..<(bytes.count - 32)] }
        var hmac: ArraySlice<UInt8> { bytes[(bytes.count - 32)...] }
        var timestamp: UInt64 { bytes[1..<9].reduce(0) { $0 << 8 | UInt64($1) } }
        var iv: ArraySlice<UInt8> { bytes[9..<25] }
        var ciphertext: ArraySlice<UInt8> { bytes[25..<(bytes.count - 32)] }

        /// Decodes the token text: strict padded base64url, version byte, and a whole number of blocks.
        init?(text: some Collection<UInt8>) {
            guard let bytes = Base64.decode(utf8: text, alphabet: .url, padding: .required),
                bytes.count >= Fernet.minimumLength, (bytes.count - Fernet.minimumLength) % 16 == 0,
                bytes[0] == Fernet.version
            else { return nil }
            self.bytes = bytes
        }

        /// Whether the HMAC verifies under `key` (constant time).
        func isAuthentic(under key: FernetKey) -> Bool {
            constantTimeEqual(key.signing.authenticationCode(for: signedPart), hmac)
        }
    }

    enum Failure: Error {
        case authenticationFailed, expired, timestampInFuture, malformed
    }

    /// Checks the time limits and decrypts a token whose HMAC has been verified under `key`.
    static func decrypt(_ token: Token, key: FernetKey, now: Date, ttl: TimeInterval?) throws(Failure) -> Data {
        let timestamp = TimeInterval(token.timestamp)
        let current = now.timeIntervalSince1970.rounded(.down)
        if let ttl, timestamp + ttl < current { throw .expired }
        if timestamp > current + maxClockSkew { throw .timestampInFuture }
        guard let iv = try? AES._CBC.IV(ivBytes: token.iv),
            let plaintext = try? AES._CBC.decrypt(token.ciphertext, using: key.encryptionKey, iv: iv)
        else { throw .malformed }
        return plaintext
    }

    /// Opens `text` under `key`: structure, HMAC, time, decryption.
    static func open(_ text: some Collection<UInt8>, key: FernetKey, now: Date, ttl: TimeInterval?) throws(Failure) -> Data {
        guard let token = Token(text: text) else { throw .malformed }
        guard token.isAuthentic(under: key) else { throw .authenticationFailed }
        return try decrypt(token, key: key, now: now, ttl: ttl)
    }

    /// Makes a token. Warden never writes Fernet; this exists for the specification's generate vectors.
    static func makeToken(_ plaintext: some DataProtocol, key: FernetKey, iv: [UInt8], timestamp: UInt64) throws -> String {
        var bytes: [UInt8] = [version]
        withUnsafeBytes(of: timestamp.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: iv)
        bytes.append(contentsOf: try AES._CBC.encrypt(plaintext, using: key.encryptionKey, iv: AES._CBC.IV(ivBytes: iv)))
        bytes.append(contentsOf: HMAC<SHA256>.authenticationCode(for: bytes, using: key.signingKey))
        return Base64.encode(bytes, alphabet: .url, padded: true)
    }
}
