// The one place (with AESGCMContext and NoncePool beside it) where Warden calls the BoringSSL that
// swift-crypto vendors directly: prepared HMAC states that swift-crypto's API cannot copy.
import CCryptoBoringSSL

/// HMAC with the inner and outer padded-key states computed once, for HOTP/TOTP (RFC 4226 dynamic
/// truncation of HMAC(key, counter)).
public struct PreparedHMAC: Sendable {
    /// The hash under the HMAC.
    public enum Hash: Sendable {
        case sha1, sha256, sha512
    }

    private let state: State

    public init(hash: Hash, key: [UInt8]) {
        state = State(hash: hash, key: key)
    }

    /// RFC 4226 dynamic truncation of HMAC(key, counter as 8 big-endian bytes): a 31-bit number.
    public func dynamicTruncation(counter: UInt64) -> UInt32 {
        state.truncated(counter)
    }

    /// The whole HMAC of `message` (20, 32 or 64 bytes), for keys used on many messages (the legacy
    /// Fernet reader checks a token's HMAC under one or two keys per value during a migration).
    public func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        if let code = message.withContiguousStorageIfAvailable({ state.code(UnsafeRawBufferPointer($0)) }) { return code }
        return Array(message).withUnsafeBytes { state.code($0) }
    }
}

private enum State: @unchecked Sendable {
    // `@unchecked`: plain C structs of integers, copied (never shared) before every use.
    case sha1(inner: SHA_CTX, outer: SHA_CTX)
    case sha256(inner: SHA256_CTX, outer: SHA256_CTX)
    case sha512(inner: SHA512_CTX, outer: SHA512_CTX)

    init(hash algorithm: PreparedHMAC.Hash, key: [UInt8]) {
        let blockSize = algorithm == .sha512 ? 128 : 64
        var block = key
        if block.count > blockSize { block = Self.digest(algorithm, block) }
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let ipad = block.map { $0 ^ 0x36 }
        let opad = block.map { $0 ^ 0x5C }
        switch algorithm {
        case .sha1:
            var inner = SHA_CTX()
            var outer = SHA_CTX()
            CCryptoBoringSSL_SHA1_Init(&inner)
            CCryptoBoringSSL_SHA1_Init(&outer)
            CCryptoBoringSSL_SHA1_Update(&inner, ipad, ipad.count)
            CCryptoBoringSSL_SHA1_Update(&outer, opad, opad.count)
            self = .sha1(inner: inner, outer: outer)
        case .sha256:
            var inner = SHA256_CTX()
            var outer = SHA256_CTX()
            CCryptoBoringSSL_SHA256_Init(&inner)
            CCryptoBoringSSL_SHA256_Init(&outer)
            CCryptoBoringSSL_SHA256_Update(&inner, ipad, ipad.count)
            CCryptoBoringSSL_SHA256_Update(&outer, opad, opad.count)
            self = .sha256(inner: inner, outer: outer)
        case .sha512:
            var inner = SHA512_CTX()
            var outer = SHA512_CTX()
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
            withCode(message) { digest in
                let offset = Int(digest[digest.count - 1] & 0x0F)
                return UInt32(digest[offset] & 0x7F) << 24 | UInt32(digest[offset + 1]) << 16
                    | UInt32(digest[offset + 2]) << 8 | UInt32(digest[offset + 3])
            }
        }
    }

    /// HMAC(key, message).
    func code(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        withCode(message) { Array($0) }
    }

    /// Computes HMAC(key, message) into a temporary buffer and hands it to `body`.
    private func withCode<T>(_ message: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
            let length: Int
            switch self {
            case .sha1(var inner, var outer):
                CCryptoBoringSSL_SHA1_Update(&inner, message.baseAddress, message.count)
                CCryptoBoringSSL_SHA1_Final(digest.baseAddress, &inner)
                CCryptoBoringSSL_SHA1_Update(&outer, digest.baseAddress, 20)
                CCryptoBoringSSL_SHA1_Final(digest.baseAddress, &outer)
                length = 20
            case .sha256(var inner, var outer):
                CCryptoBoringSSL_SHA256_Update(&inner, message.baseAddress, message.count)
                CCryptoBoringSSL_SHA256_Final(digest.baseAddress, &inner)
                CCryptoBoringSSL_SHA256_Update(&outer, digest.baseAddress, 32)
                CCryptoBoringSSL_SHA256_Final(digest.baseAddress, &outer)
                length = 32
            case .sha512(var inner, var outer):
                CCryptoBoringSSL_SHA512_Update(&inner, message.baseAddress, message.count)
                CCryptoBoringSSL_SHA512_Final(digest.baseAddress, &inner)
                CCryptoBoringSSL_SHA512_Update(&outer, digest.baseAddress, 64)
                CCryptoBoringSSL_SHA512_Final(digest.baseAddress, &outer)
                length = 64
            }
            return body(UnsafeBufferPointer(rebasing: digest[0..<length]))
        }
    }

    private static func digest(_ algorithm: PreparedHMAC.Hash, _ bytes: [UInt8]) -> [UInt8] {
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
