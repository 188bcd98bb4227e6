// HMAC-based one-time passwords (RFC 4226) with the key's HMAC state prepared once (WardenCrypto's
// `PreparedHMAC`): each code then costs two hash compressions on copies of that state, which is what lets
// a ±1-step TOTP check (three HMACs) run in about a microsecond. Checked against the RFC 4226 and RFC 6238
// vectors and against swift-crypto's HMAC in the tests.
import Foundation
import WardenCrypto

/// The HMAC hash of an OTP generator, named as `otpauth://` URIs name it.
public enum OTPAlgorithm: String, Sendable, Codable, CaseIterable {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha512 = "SHA512"
}

/// An RFC 4226 HOTP generator for one secret.
public struct HOTP: Sendable {
    public let algorithm: OTPAlgorithm
    /// Code length, 6 to 8.
    public let digits: Int
    private let state: PreparedHMAC

    /// - Throws: ``MFAError/Code/invalidParameters`` for fewer than 6 or more than 8 digits, or an empty
    ///   secret.
    public init(secret: [UInt8], algorithm: OTPAlgorithm = .sha1, digits: Int = 6) throws(MFAError) {
        guard (6...8).contains(digits) else { throw MFAError(.invalidParameters, "codes have 6 to 8 digits") }
        guard !secret.isEmpty else { throw MFAError(.invalidParameters, "the secret is empty") }
        self.algorithm = algorithm
        self.digits = digits
        state = PreparedHMAC(hash: algorithm.preparedHash, key: secret)
    }

    /// The code for `counter`, as a number below 10^digits.
    public func value(counter: UInt64) -> UInt32 {
        state.dynamicTruncation(counter: counter) % Self.powers[digits]
    }

    /// The code for `counter`, zero-padded to `digits`.
    public func code(counter: UInt64) -> String {
        let text = String(value(counter: counter))
        return String(repeating: "0", count: digits - text.count) + text
    }

    static let powers: [UInt32] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]
}

extension OTPAlgorithm {
    var preparedHash: PreparedHMAC.Hash {
        switch self {
        case .sha1: .sha1
        case .sha256: .sha256
        case .sha512: .sha512
        }
    }
}
