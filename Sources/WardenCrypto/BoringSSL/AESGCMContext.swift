// The BoringSSL that swift-crypto vendors and builds for `Crypto`. swift-crypto's `AES.GCM` sets up a new
// AEAD context (key schedule, GHASH tables) and several `Data` buffers on every call, which caps it near
// 300k seals/s at 256 bytes on this machine class; a context prepared once per key version and reused
// seals several times faster. Only AEAD setup, seal, open and RAND_bytes are used from it.
import CCryptoBoringSSL
import Crypto

/// An AES-256-GCM key schedule prepared once and shared by every seal and open under one key version.
///
/// `@unchecked Sendable`: the context is written only in `init` and `deinit`; BoringSSL's
/// `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` take it as `const` and are safe to call concurrently.
final class AESGCMContext: @unchecked Sendable {
    static let nonceSize = 12
    static let tagSize = 16
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>

    /// Prepares `key`, which must be 32 bytes.
    init(key: SymmetricKey) {
        precondition(key.bitCount == 256, "AES-256-GCM needs a 256-bit key")
        let context = key.withUnsafeBytes { bytes in
            CCryptoBoringSSL_EVP_AEAD_CTX_new(
                CCryptoBoringSSL_EVP_aead_aes_256_gcm(), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                bytes.count, Self.tagSize)
        }
        // Allocation of a small structure; failure means the process is out of memory.
        guard let context else { fatalError("EVP_AEAD_CTX_new failed") }
        self.context = context
    }

    deinit {
        CCryptoBoringSSL_EVP_AEAD_CTX_free(context)
    }

    /// Encrypts `plaintext` into `output` as ciphertext ‖ tag; `output` must hold `plaintext.count + 16`
    /// bytes. Returns `false` if BoringSSL refuses (wrong sizes).
    func seal(
        plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard nonce.count == Self.nonceSize, output.count == plaintext.count + Self.tagSize else { return false }
        var written = 0
        return CCryptoBoringSSL_EVP_AEAD_CTX_seal(
            context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, output.count,
            nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce.count,
            plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), plaintext.count,
            associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count) == 1
            && written == output.count
    }

    /// Verifies and decrypts `sealed` (ciphertext ‖ tag) into `output`, which must hold
    /// `sealed.count - 16` bytes. Returns `false` on any authentication failure; `output` is then
    /// unspecified and must be discarded.
    func open(
        sealed: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard nonce.count == Self.nonceSize, sealed.count >= Self.tagSize, output.count == sealed.count - Self.tagSize else {
            return false
        }
        var written = 0
        return CCryptoBoringSSL_EVP_AEAD_CTX_open(
            context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, output.count,
            nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce.count,
            sealed.baseAddress?.assumingMemoryBound(to: UInt8.self), sealed.count,
            associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count) == 1
            && written == output.count
    }

    /// Fills `buffer` from BoringSSL's CSPRNG (seeded from the kernel, fork-safe, no system call per
    /// request).
    static func randomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        // RAND_bytes aborts the process rather than return failure.
        _ = CCryptoBoringSSL_RAND_bytes(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count)
    }
}
