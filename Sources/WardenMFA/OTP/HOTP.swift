// HMAC-based one-time passwords (RFC 4226) with the key's HMAC state prepared once: each code then costs
// two hash compressions on copies of that state, which is what lets a ±1-step TOTP check (three HMACs)
// run in about a microsecond. Uses the BoringSSL that swift-crypto vendors; checked against the RFC 4226
// and RFC 6238 vectors and against swift-crypto's HMAC in the tests.
import CCryptoBoringSSL
import Foundation

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
        state = PreparedHMAC(algorithm: algorithm, key: secret)
    }

    /// The code for `counter`, as a number below 10^digits.
    public func value(counter: UInt64) -> UInt32 {
        state.truncated(counter) % Self.powers[digits]
    }

    /// The code for `counter`, zero-padded to `digits`.
    public func code(counter: UInt64) -> String {
        let text = String(value(counter: counter))
        return String(repeating: "0", count: digits - text.count) + text
    }

    static let powers: [UInt32] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]
}

/// HMAC with the inner and outer padded-key states computed once.
private enum PreparedHMAC: @unchecked Sendable {
    // `@unchecked`: plain C structs of integers, copied (never shared) before every use.
    case sha1(inner: SHA_CTX, outer: SHA_CTX)
    case sha256(inner: SHA256_CTX, outer: SHA256_CTX)
    case sha512(inner: SHA512_CTX, outer: SHA512_CTX)

    init(algorithm: OTPAlgorithm, key: [UInt8]) {
        let blockSize = algorithm == .sha512 ? 128 : 64
        var block = key
        if block.count > blockSize { block = Self.digest(algorithm, block) }
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let ipad = block.map { $0 ^ 0x36 }
        let opad = block.map { $0 ^ 0x5C }
        switch algorithm {
        case .sha1:
            var inner = SHA_CTX(), outer = SHA_CTX()
            CCryptoBoringSSL_SHA1_Init(&inner)
            CCryptoBoringSSL_SHA1_Init(&outer)
            CCryptoBoringSSL_SHA1_Update(&inner, ipad, ipad.count)
            CCryptoBoringSSL_SHA1_Update(&outer, opad, opad.count)
            self = .sha1(inner: inner, outer: outer)
        case .sha256:
            var inner = SHA256_CTX(), outer = SHA256_CTX()
            CCryptoBoringSSL_SHA256_Init(&inner)
            CCryptoBoringSSL_SHA256_Init(&outer)
            CCryptoBoringSSL_SHA256_Update(&inner, ipad, ipad.count)
            CCryptoBoringSSL_SHA256_Update(&outer, opad, opad.count)
            self = .sha256(inner: inner, outer: outer)
        case .sha512:
            var inner = SHA512_CTX(), outer = SHA512_CTX()
            CCryptoBoringSSL_SHA512_Init(&inner)
            CCryptoBoringSSL_SHA512_Init(&outer)
            CCryptoBoringSSL_SHA512_Update(&inner, ipad, ipad.count)
            CCryptoBoringSSL_SHA512_Update(&outer, opad, opad.count)
            self = .sha512(inner: inner, outer: outer)
        }
    }

    /// RFC 4226 dynamic truncation of HMAC(key, counter): a 31-bit number.
    func truncated(_ counter: UInt64) -> UInt32 {
        var message = counter.bigEndian
        return withUnsafeBytes(of: &message) { message in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
                let length: Int
                switch self {
                case .sha1(var inner, var outer):
                    CCryptoBoringSSL_SHA1_Update(&inner, message.baseAddress, 8)
                    CCryptoBoringSSL_SHA1_Final(digest.baseAddress, &inner)
                    CCryptoBoringSSL_SHA1_Update(&outer, digest.baseAddress, 20)
                    CCryptoBoringSSL_SHA1_Final(digest.baseAddress, &outer)
                    length = 20
                case .sha256(var inner, var outer):
                    CCryptoBoringSSL_SHA256_Update(&inner, message.baseAddress, 8)
                    CCryptoBoringSSL_SHA256_Final(digest.baseAddress, &inner)
                    CCryptoBoringSSL_SHA256_Update(&outer, digest.baseAddress, 32)
                    CCryptoBoringSSL_SHA256_Final(digest.baseAddress, &outer)
                    length = 32
                case .sha512(var inner, var outer):
                    CCryptoBoringSSL_SHA512_Update(&inner, message.baseAddress, 8)
                    CCryptoBoringSSL_SHA512_Final(digest.baseAddress, &inner)
                    CCryptoBoringSSL_SHA512_Update(&outer, digest.baseAddress, 64)
                    CCryptoBoringSSL_SHA512_Final(digest.baseAddress, &outer)
                    length = 64
                }
                let offset = Int(digest[length - 1] & 0x0F)
                return UInt32(digest[offset] & 0x7F) << 24 | UInt32(digest[offset + 1]) << 16
                    | UInt32(digest[offset + 2]) << 8 | UInt32(digest[offset + 3])
            }
        }
    }

    private static func digest(_ algorithm: OTPAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        switch algorithm {
        case .sha1:
            CCryptoBoringSSL_SHA1(bytes, bytes.count, &out)
            return Array(out.prefix(20))
        case .sha256:
            CCryptoBoringSSL_SHA256(bytes, bytes.count, &out)
            return Array(out.prefix(32))
        case .sha512:
            CCryptoBoringSSL_SHA512(bytes, bytes.count, &out)
            return out
        }
    }
}
