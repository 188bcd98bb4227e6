import Crypto
import WardenCrypto

/// A device token: proof that a browser or app has logged in to an account before (OWASP's "device
/// cookie"). It exempts that device from the account-wide password lock, so failed guesses by others can
/// lock out unknown devices but never the owner's: the lock cannot be turned into a denial of service.
///
/// The token is `<nonce>.<tag>`: 16 random bytes in hex and a keyed tag (``FieldCipher/identifierTag(_:)``,
/// under a key derived from the master key) over the account's username tag and the nonce. Nothing is
/// stored; a token is bound to one username. A device token alone grants nothing: the password (and MFA)
/// are still required, and attempts with one token are limited on their own.
enum DeviceToken {
    static func issue(usernameTag: String, cipher: FieldCipher) -> String {
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }.hexString
        return nonce + "." + tag(nonce: nonce, usernameTag: usernameTag, cipher: cipher)
    }

    /// The token's nonce (its key for rate limiting) when `token` is valid for the username, else `nil`.
    static func verify(_ token: String, usernameTag: String, cipher: FieldCipher) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 32, parts[0].utf8.allSatisfy(isHex) else { return nil }
        let nonce = String(parts[0])
        let expected = Array(tag(nonce: nonce, usernameTag: usernameTag, cipher: cipher).utf8)
        let presented = Array(parts[1].utf8)
        guard expected.count == presented.count else { return nil }
        return zip(expected, presented).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0 ? nonce : nil
    }

    private static func tag(nonce: String, usernameTag: String, cipher: FieldCipher) -> String {
        cipher.identifierTag("device-token:" + usernameTag + ":" + nonce)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (97...102).contains(byte)
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
