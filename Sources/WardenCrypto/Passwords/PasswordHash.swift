import Foundation
import WardenCore

/// A stored password hash, parsed from its self-describing string.
///
/// - `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` — Warden's scheme (PHC string format; salt and hash in
///   standard base64 without padding; 16-byte salt, 32-byte hash).
/// - `$aivillage-pbkdf2-sha256$i=100000$<salt>$<hex digest>` — the original system's hashes, imported
///   for verification only: `hashlib.pbkdf2_hmac("sha256", password, salt, 100000).hex()`, with the salt
///   string's UTF-8 bytes in standard base64 without padding. Rehashed with scrypt on the next
///   successful login.
/// - `$aivillage-pbkdf2-sha256-hexsalt$i=100000$<64 hex salt>$<hex digest>` — a hash imported from the
///   original's `rbac.db` (`password_salt` and `password_hash` columns), where the salt text is the hex of
///   32 random bytes. The original's register hashed over those 32 bytes, but its logins hashed over the 64
///   ASCII characters of the hex text, and both look alike on disk: verification computes both (always
///   both, so the time does not say which) and accepts either. Rehashed with scrypt on the next
///   successful login.
public enum PasswordHash: Sendable, Hashable {
    case scrypt(ScryptParameters, salt: [UInt8], hash: [UInt8])
    case legacyPBKDF2(iterations: Int, salt: [UInt8], digest: [UInt8])
    /// `salt` is the hex text as stored; verification tries its decoded bytes and its characters.
    case legacyPBKDF2HexSalt(iterations: Int, saltHex: String, digest: [UInt8])

    /// Parses a stored string, or returns `nil` if it is in no known scheme or out of bounds.
    public init?(_ string: String) {
        let parts = string.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty else { return nil }
        switch parts[1] {
        case "scrypt":
            var values: [String: Int] = [:]
            for pair in parts[2].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let value = Int(kv[1]) else { return nil }
                values[String(kv[0])] = value
            }
            guard values.count == 3, let logN = values["ln"], let r = values["r"], let p = values["p"] else { return nil }
            let parameters = ScryptParameters(logN: logN, blockSize: r, parallelism: p)
            guard parameters.isWithinBounds,
                let salt = Base64.decode(parts[3], padding: .forbidden), salt.count >= 8,
                let hash = Base64.decode(parts[4], padding: .forbidden), hash.count >= 16
            else { return nil }
            self = .scrypt(parameters, salt: salt, hash: hash)
        case "aivillage-pbkdf2-sha256":
            guard parts[2].hasPrefix("i="), let iterations = Int(parts[2].dropFirst(2)), (1_000...10_000_000).contains(iterations),
                let salt = Base64.decode(parts[3], padding: .forbidden),
                let digest = Self.hexBytes(parts[4]), digest.count == 32
            else { return nil }
            self = .legacyPBKDF2(iterations: iterations, salt: salt, digest: digest)
        case "aivillage-pbkdf2-sha256-hexsalt":
            guard parts[2].hasPrefix("i="), let iterations = Int(parts[2].dropFirst(2)), (1_000...10_000_000).contains(iterations),
                let salt = Self.hexBytes(parts[3]), !salt.isEmpty,
                let digest = Self.hexBytes(parts[4]), digest.count == 32
            else { return nil }
            self = .legacyPBKDF2HexSalt(iterations: iterations, saltHex: String(parts[3]), digest: digest)
        default:
            return nil
        }
    }

    /// The stored string.
    public var string: String {
        switch self {
        case .scrypt(let parameters, let salt, let hash):
            "$scrypt$\(parameters)$\(Base64.encode(salt, padded: false))$\(Base64.encode(hash, padded: false))"
        case .legacyPBKDF2(let iterations, let salt, let digest):
            "$aivillage-pbkdf2-sha256$i=\(iterations)$\(Base64.encode(salt, padded: false))$\(Hex.encode(digest))"
        case .legacyPBKDF2HexSalt(let iterations, let saltHex, let digest):
            "$aivillage-pbkdf2-sha256-hexsalt$i=\(iterations)$\(saltHex)$\(Hex.encode(digest))"
        }
    }

    /// A hash from the original's `rbac.db`: its `password_salt` (hex text) and `password_hash` columns,
    /// or `nil` when either is not lowercase or uppercase hex of the original's lengths.
    public static func rbac(salt: String, hexDigest: String) -> PasswordHash? {
        let saltHex = salt.lowercased()
        guard let digest = hexBytes(Substring(hexDigest.lowercased())), digest.count == 32,
            let saltBytes = hexBytes(Substring(saltHex)), !saltBytes.isEmpty, saltBytes.count <= 1024
        else { return nil }
        return .legacyPBKDF2HexSalt(iterations: 100_000, saltHex: saltHex, digest: digest)
    }

    /// The original system's hash for `salt` (its salt string, as stored) and `hexDigest`.
    public static func legacy(salt: String, hexDigest: String) -> PasswordHash? {
        guard let digest = hexBytes(Substring(hexDigest.lowercased())), digest.count == 32 else { return nil }
        return .legacyPBKDF2(iterations: 100_000, salt: Array(salt.utf8), digest: digest)
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0, text.allSatisfy({ $0.isHexDigit && ($0.isNumber || $0.isLowercase) }) else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
