import Crypto
import Foundation
import _CryptoExtras

/// The private-key operation of a full TLS 1.3 handshake, as `warden serve` makes it (swift-crypto's
/// BoringSSL, `OffloadedSigningKey` in WardenTLS): RSA-PSS with SHA-256 over an RSA-4096 key, and ECDSA
/// P-256, each over a message of a CertificateVerify's size. Beside `openssl speed rsa4096 ecdsap256`,
/// what limits a server's new handshakes on the same CPU, for Warden and for nginx (OpenSSL).
enum TLSBenchmarks {
    static func all() throws -> [Benchmark] {
        // The signed content of a TLS 1.3 CertificateVerify: 64 spaces, a context string, a zero byte
        // and a SHA-256 transcript hash.
        let message = Array(repeating: UInt8(0x20), count: 64) + Array("TLS 1.3, server CertificateVerify".utf8) + [0] + Array(repeating: 7, count: 32)
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits4096)
        let p256 = P256.Signing.PrivateKey()
        return [
            Benchmark(name: "tls.sign.rsa4096.pss", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try rsa.signature(for: SHA256.hash(data: message), padding: .PSS)) }
            },
            Benchmark(name: "tls.sign.p256", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try p256.signature(for: message)) }
            },
        ]
    }
}
