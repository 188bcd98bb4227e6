import CCryptoBoringSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random 96-bit nonces, drawn from the CSPRNG a few kilobytes at a time.
///
/// One `RAND_bytes` call per nonce costs more than the AES-GCM seal of a small field (BoringSSL runs its
/// DRBG's derivation function on each call); a pool amortises that over 341 nonces. Nonces remain
/// independent uniform random values: each pool byte is used once. A forked child must not reuse its
/// parent's pool, so a fork handler bumps a generation number and pools refill when it changes.
struct NoncePool {
    static let size = 12
    private static let capacity = 341 * size
    private var buffer = [UInt8](repeating: 0, count: capacity)
    private var offset = capacity
    private var generation = UInt64.max

    /// The next nonce.
    mutating func next() -> Nonce {
        let current = forkGeneration.load(ordering: .relaxed)
        if offset == Self.capacity || generation != current {
            buffer.withUnsafeMutableBytes { AESGCMContext.randomBytes($0) }
            offset = 0
            generation = current
        }
        defer { offset += Self.size }
        return buffer.withUnsafeBytes { source in
            Nonce(
                high: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
                low: source.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        }
    }

    /// Twelve nonce bytes, held without allocation.
    struct Nonce {
        let high: UInt64
        let low: UInt32

        func write(to destination: UnsafeMutableRawBufferPointer) {
            destination.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            destination.storeBytes(of: low, toByteOffset: 8, as: UInt32.self)
        }

        /// A nonce drawn on its own, outside any pool.
        static func random() -> Nonce {
            var bytes = (UInt64(0), UInt32(0))
            withUnsafeMutableBytes(of: &bytes.0) { AESGCMContext.randomBytes($0) }
            withUnsafeMutableBytes(of: &bytes.1) { AESGCMContext.randomBytes($0) }
            return Nonce(high: bytes.0, low: bytes.1)
        }
    }
}

/// Incremented in every child process right after `fork()`.
private let forkGeneration: Atomic<UInt64> = {
    pthread_atfork(nil, nil) { forkGeneration.add(1, ordering: .relaxed) }
    return Atomic(0)
}()
