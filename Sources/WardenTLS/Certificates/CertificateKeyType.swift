internal import Crypto
internal import CryptoExtras
internal import X509

/// The kind of key a generated certificate is made for.
///
/// RSA-4096 is the default: it is what deployments that follow a policy asking for RSA keys of at least
/// 4096 bits need. ECDSA P-256 is the fast choice: a TLS handshake signs once with the server's key, and a
/// P-256 signature costs a fraction of an RSA-4096 one (docs/benchmarks.md has the handshake rates); every
/// TLS 1.3 client and every TLS 1.2 client offering ECDHE-ECDSA suites accepts it.
public enum CertificateKeyType: String, Sendable, CaseIterable {
    /// A 4096-bit RSA key; certificates are signed with sha256WithRSAEncryption. The default.
    case rsa4096 = "rsa-4096"
    /// An ECDSA key on NIST P-256 (secp256r1); certificates are signed with ecdsa-with-SHA256.
    case ecP256 = "ec-p256"

    /// A freshly generated key with what a certificate for it needs.
    struct GeneratedKey {
        let privateKey: Certificate.PrivateKey
        /// The key as an unencrypted PKCS #8 `PRIVATE KEY` PEM block, which NIOSSL, OpenSSL and
        /// Python's `cryptography` all load.
        let pkcs8PEM: String
        let signatureAlgorithm: Certificate.SignatureAlgorithm
        /// RSA keys may sign and (in TLS 1.2's static-RSA key exchange, which Warden refuses anyway)
        /// decrypt; RFC 5480 (section 3) allows no key encipherment for an elliptic-curve key.
        let keyUsage: KeyUsage
    }

    /// Generates a new key of this type.
    func generate() throws -> GeneratedKey {
        switch self {
        case .rsa4096:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits4096)
            return GeneratedKey(
                privateKey: Certificate.PrivateKey(key), pkcs8PEM: key.pkcs8PEMRepresentation,
                signatureAlgorithm: .sha256WithRSAEncryption,
                keyUsage: KeyUsage(digitalSignature: true, keyEncipherment: true))
        case .ecP256:
            let key = P256.Signing.PrivateKey()
            return GeneratedKey(
                privateKey: Certificate.PrivateKey(key), pkcs8PEM: key.pemRepresentation,
                signatureAlgorithm: .ecdsaWithSHA256, keyUsage: KeyUsage(digitalSignature: true))
        }
    }
}
