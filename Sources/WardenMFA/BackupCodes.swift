import Crypto
import Foundation
import WardenCore

/// Backup codes: random, from an alphabet without look-alikes, shown once, stored as keyed hashes.
public enum BackupCodes {
    /// Digits and capitals without 0/O, 1/I/L and U (30 symbols).
    public static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new code of `length` characters, grouped by four with hyphens for reading.
    static func make(length: Int) -> String {
        var symbols: [UInt8] = []
        // Rejection sampling: bytes below 240 (8 × 30) map evenly onto the alphabet.
        while symbols.count < length {
            for byte in SymmetricKey(size: .bits256).withUnsafeBytes({ Array($0) }) where byte < 240 && symbols.count < length {
                symbols.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return stride(from: 0, to: length, by: 4).map { String(decoding: symbols[$0..<min($0 + 4, length)], as: UTF8.self) }
            .joined(separator: "-")
    }

    /// What a person typed, reduced to the code's symbols: case, spaces and hyphens do not matter.
    static func normalize(_ typed: String) -> String {
        String(typed.uppercased().unicodeScalars.filter { $0 != "-" && $0 != " " })
    }
}

/// Keyed hashes for codes and tokens: HMAC-SHA256 under a key derived from the master key, with a salt.
/// Without the master key a stolen database does not allow offline guessing of codes.
struct SecretHasher: Sendable {
    let key: SymmetricKey

    func hash(_ value: String, salt: String, purpose: String) -> String {
        let message = Array((purpose + "\u{0}" + salt + "\u{0}" + value).utf8)
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// Compares in constant time for equal lengths.
    func matches(_ value: String, salt: String, purpose: String, hash: String) -> Bool {
        let computed = Array(self.hash(value, salt: salt, purpose: purpose).utf8)
        let stored = Array(hash.utf8)
        guard computed.count == stored.count else { return false }
        return zip(computed, stored).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func salt() -> String {
        Base64.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }, alphabet: .url, padded: false)
    }
}
