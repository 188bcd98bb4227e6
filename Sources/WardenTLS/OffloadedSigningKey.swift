internal import Crypto
internal import CryptoExtras
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import Synchronization

/// The server's private key, signing TLS handshakes on a thread of its own instead of the connection's
/// event loop.
///
/// A TLS handshake makes one signature with the server's key; swift-nio-ssl makes it inside the
/// handshake, on the event loop of the connection, where it blocks every other connection of that loop
/// for its duration: about 4 ms for RSA-4096 on Warden's reference machine, during which requests on
/// open connections wait. As an `NIOSSLCustomPrivateKey`, this key hands the signature to
/// ``signingPool`` and BoringSSL resumes the handshake when it is done (its asynchronous private-key
/// method), so the loop keeps serving. Measured with 16 keep-alive connections while ~130 RSA-4096
/// handshakes a second arrive: p99 9.3 ms on the loop, 4.8 ms off it (docs/benchmarks.md).
///
/// RSA keys (2048 bits or more) sign RSA-PSS (TLS 1.3 and 1.2) or PKCS #1 v1.5 (TLS 1.2 clients that
/// offer nothing else) with SHA-256, -384 or -512. Other keys stay ordinary NIOSSL keys (``make(pem:)``
/// returns `nil`) and sign on the loop: a P-256 signature takes about 20 µs, less than handing it to
/// another thread and back (measured with `openssl s_time -new`: 65–130 µs more server CPU per handshake
/// and 5–15% fewer handshakes off the loop; docs/benchmarks.md). Decryption is never offered: Warden
/// refuses the static-RSA key exchange that would need it.
///
/// > Important: BoringSSL cannot check that a custom key belongs to the certificate, so
/// > ``TLSSettings/makeServerConfiguration()`` compares the public keys itself before using one.
final class OffloadedSigningKey: NIOSSLCustomPrivateKey, Hashable {
    /// One thread for every handshake signature of the process: at most one core signs, the event loops
    /// keep the others. Started on first use and kept for the life of the process, like NIO's singletons.
    static let signingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// How many handshake signatures this process has made on ``signingPool`` (for tests and metrics).
    static let signaturesMade = Atomic<Int>(0)

    let key: _RSA.Signing.PrivateKey

    private init(key: _RSA.Signing.PrivateKey) {
        self.key = key
    }

    /// The key in `pem` (PKCS #8 or PKCS #1), or `nil` when it is not an RSA key.
    static func make(pem: String) -> OffloadedSigningKey? {
        (try? _RSA.Signing.PrivateKey(pemRepresentation: pem)).map(OffloadedSigningKey.init(key:))
    }

    var signatureAlgorithms: [SignatureAlgorithm] {
        [.rsaPssRsaeSha256, .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384, .rsaPkcs1Sha512]
    }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        let message = Array(data.readableBytesView)
        let key = self.key
        return Self.signingPool.runIfActive(eventLoop: channel.eventLoop) {
            let signature = try Self.signature(of: message, with: key, algorithm: algorithm)
            Self.signaturesMade.add(1, ordering: .relaxed)
            return signature
        }.map { ByteBuffer(bytes: $0) }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(TLSSetupError(.contextFailed, "RSA decryption is not offered"))
    }

    /// The signature of `message` (not yet hashed) by `key` with the TLS signature scheme `algorithm`.
    static func signature(of message: [UInt8], with key: _RSA.Signing.PrivateKey, algorithm: SignatureAlgorithm) throws -> [UInt8] {
        switch algorithm {
        case .rsaPssRsaeSha256:
            // swift-crypto's PSS uses MGF1 with the same hash and a salt as long as the digest, as TLS requires.
            return Array(try key.signature(for: SHA256.hash(data: message), padding: .PSS).rawRepresentation)
        case .rsaPssRsaeSha384:
            return Array(try key.signature(for: SHA384.hash(data: message), padding: .PSS).rawRepresentation)
        case .rsaPssRsaeSha512:
            return Array(try key.signature(for: SHA512.hash(data: message), padding: .PSS).rawRepresentation)
        case .rsaPkcs1Sha256:
            return Array(try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .rsaPkcs1Sha384:
            return Array(try key.signature(for: SHA384.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .rsaPkcs1Sha512:
            return Array(try key.signature(for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
        default:
            // BoringSSL only asks for the schemes in `signatureAlgorithms`.
            throw TLSSetupError(.contextFailed, "the key does not sign with TLS signature scheme \(algorithm.rawValue)")
        }
    }

    static func == (lhs: OffloadedSigningKey, rhs: OffloadedSigningKey) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
