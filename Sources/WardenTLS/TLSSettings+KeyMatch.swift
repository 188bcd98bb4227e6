internal import Crypto
internal import CryptoExtras

extension TLSSettings {
    /// The DER SubjectPublicKeyInfo of the private key in `pem` (PKCS #8, PKCS #1 or SEC 1), to compare
    /// with the certificate's; `nil` for a key type swift-crypto does not read from PEM (BoringSSL then
    /// compares them when the context is made).
    static func publicKeySPKI(pem: String) -> [UInt8]? {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return Array(key.publicKey.derRepresentation) }
        if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return Array(key.publicKey.derRepresentation) }
        if let key = try? P521.Signing.PrivateKey(pemRepresentation: pem) { return Array(key.publicKey.derRepresentation) }
        if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) { return Array(key.publicKey.derRepresentation) }
        return nil
    }
}
