internal import Crypto
public import Foundation
internal import SwiftASN1
internal import X509

/// Generates self-signed server certificates (RSA-4096 by default, or ECDSA P-256) and writes them to disk.
///
/// This backs `warden certs generate` and the embedded default, which creates a certificate on first
/// run (``ensure(directory:dnsNames:ipAddresses:)``). The certificates are leaf certificates for a
/// server: not a CA, usable for TLS server authentication only, valid for the names given and no other.
///
/// ```swift
/// let generated = try CertificateGenerator.selfSigned(
///     dnsNames: ["localhost", "warden.internal"], ipAddresses: ["127.0.0.1", "::1"])
/// try CertificateGenerator.write(generated, certificatePath: "tls/cert.pem", keyPath: "tls/key.pem")
/// let context = try TLSSettings(certificatePath: "tls/cert.pem", keyPath: "tls/key.pem").makeServerContext()
/// ```
public enum CertificateGenerator {
    /// How far `notBefore` lies before the generation time, so that clients whose clocks run a little
    /// behind accept a certificate made moments ago.
    public static let clockSkewAllowance: TimeInterval = 5 * 60

    /// Generates a new key (RSA-4096 unless `keyType` says otherwise) and a self-signed X.509 v3
    /// certificate for it.
    ///
    /// The certificate has subject and issuer `CN=<commonName>`, a random positive 20-byte serial
    /// number, a validity from `now` minus ``clockSkewAllowance`` to `now + validity`, and the
    /// extensions a TLS server certificate needs: basic constraints `CA:FALSE` (critical), key usage
    /// (critical; digitalSignature and keyEncipherment for RSA, digitalSignature alone for ECDSA, as
    /// RFC 5480 requires), extended key usage serverAuth, the subject alternative names, a subject key
    /// identifier (SHA-1 of the public key, RFC 5280 method 1) and an authority key identifier holding the
    /// same value. It is signed with sha256WithRSAEncryption (RSA) or ecdsa-with-SHA256 (P-256), and
    /// passes RFC 5280 path validation when pinned as its own trust anchor.
    ///
    /// All names are checked before the key is generated, which takes around a second for RSA-4096.
    ///
    /// - Parameters:
    ///   - commonName: The subject and issuer common name. Clients match host names against the subject
    ///     alternative names only, so this is a label for people.
    ///   - dnsNames: Host names the certificate is valid for, as `dNSName` entries, in this order.
    ///   - ipAddresses: Literal IPv4 (`127.0.0.1`) or IPv6 (`::1`) addresses the certificate is valid
    ///     for, encoded as 4- or 16-byte `iPAddress` entries after the DNS names.
    ///   - validity: Seconds from `now` until the certificate expires. The default, 397 days, is the
    ///     longest lifetime browsers accept for a server certificate.
    ///   - now: The generation time.
    ///   - keyType: The kind of key; RSA-4096 by default.
    /// - Returns: The PEM-encoded certificate and PKCS #8 private key.
    /// - Throws: ``TLSSetupError`` with ``TLSSetupError/Code/invalidName`` for a bad common name or DNS
    ///   name, ``TLSSetupError/Code/invalidIPAddress`` for an entry of `ipAddresses` that is not an IP
    ///   address, ``TLSSetupError/Code/invalidValidity`` for a validity that is not positive and finite or
    ///   when no name is given at all, and ``TLSSetupError/Code/generationFailed`` when key generation
    ///   or signing fails.
    public static func selfSigned(
        commonName: String = "warden",
        dnsNames: [String],
        ipAddresses: [String],
        validity: TimeInterval = 397 * 86_400,
        now: Date = Date(),
        keyType: CertificateKeyType = .rsa4096
    ) throws(TLSSetupError) -> GeneratedCertificate {
        try SubjectNames.checkCommonName(commonName)
        for name in dnsNames { try SubjectNames.checkDNSName(name) }
        var addresses: [[UInt8]] = []
        for address in ipAddresses { addresses.append(try SubjectNames.ipAddressBytes(address)) }
        guard !dnsNames.isEmpty || !addresses.isEmpty else {
            throw TLSSetupError(
                .invalidName, "a certificate needs at least one DNS name or IP address to be usable by clients")
        }
        guard validity.isFinite, validity > 0 else {
            throw TLSSetupError(.invalidValidity, "the validity must be a positive number of seconds")
        }

        let names =
            dnsNames.map { GeneralName.dnsName($0) }
            + addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }

        do {
            let key = try keyType.generate()
            let publicKey = key.privateKey.publicKey
            let name = try DistinguishedName { CommonName(commonName) }
            let keyIdentifier = SubjectKeyIdentifier(hash: publicKey)
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(key.keyUsage)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                keyIdentifier
                // Self-signed: the issuer's key is the certificate's own. RFC 5280 (4.2.1.1) requires
                // this extension, and verifiers that enforce it (pyca/cryptography's) refuse the
                // certificate without it even when it is pinned as the trust anchor.
                AuthorityKeyIdentifier(keyIdentifier: keyIdentifier.keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: randomSerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - clockSkewAllowance,
                notValidAfter: now + validity,
                issuer: name,
                subject: name,
                signatureAlgorithm: key.signatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: key.privateKey
            )
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return GeneratedCertificate(
                certificatePEM: endingWithNewline(try certificate.serializeAsPEM().pemString),
                privateKeyPEM: endingWithNewline(key.pkcs8PEM),
                sha256Fingerprint: SHA256.hash(data: serializer.serializedBytes)
                    .map { byte in (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true) }
                    .joined(separator: ":")
            )
        } catch {
            throw TLSSetupError(.generationFailed, "could not generate the self-signed certificate", cause: error)
        }
    }

    /// PEM text as files conventionally hold it: ending with a line break.
    private static func endingWithNewline(_ pem: String) -> String {
        pem.hasSuffix("\n") ? pem : pem + "\n"
    }

    /// A random serial number of exactly 20 bytes whose first byte has its top bit clear, so that it is
    /// positive and within RFC 5280's 20-octet limit once DER-encoded.
    static func randomSerialNumber() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[0] = max(bytes[0] & 0x7F, 1)
        return Certificate.SerialNumber(bytes: bytes)
    }
}
