/// A freshly generated certificate and its private key, both PEM-encoded.
///
/// > Important: ``privateKeyPEM`` is the unencrypted private key. Write it only with
/// > ``CertificateGenerator/write(_:certificatePath:keyPath:overwrite:)``, which creates the file with
/// > mode `0600` from the start. The value's `description`, `debugDescription` and reflection show the
/// > fingerprint, never the key, so printing or logging it by mistake does not leak the key.
public struct GeneratedCertificate: Sendable {
    /// The X.509 certificate as a `CERTIFICATE` PEM block.
    public let certificatePEM: String
    /// The unencrypted private key (RSA or ECDSA) as a PKCS #8 `PRIVATE KEY` PEM block.
    public let privateKeyPEM: String
    /// The SHA-256 fingerprint of the certificate's DER encoding, as colon-separated upper-case hex
    /// (the form `openssl x509 -fingerprint -sha256` prints), for operators to compare out of band.
    public let sha256Fingerprint: String

    init(certificatePEM: String, privateKeyPEM: String, sha256Fingerprint: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.sha256Fingerprint = sha256Fingerprint
    }
}

extension GeneratedCertificate: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "GeneratedCertificate(sha256: \(sha256Fingerprint), privateKey: <redacted>)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["sha256Fingerprint": sha256Fingerprint, "privateKeyPEM": "<redacted>"])
    }
}
