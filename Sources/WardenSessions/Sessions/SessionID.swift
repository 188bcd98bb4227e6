import Crypto
import Foundation
import WardenCore

/// Session and token identifiers: 256 random bits, URL-safe base64.
public enum SessionID {
    /// A new random identifier.
    public static func make() -> String {
        Base64.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }, alphabet: .url, padded: false)
    }

    /// The stored form of a session id: SHA-256, lowercase hex. A leaked store does not hold ids that
    /// could be put into a token.
    public static func hash(_ id: String) -> String {
        sha256Hex(id)
    }

    static func sha256Hex(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }
}
