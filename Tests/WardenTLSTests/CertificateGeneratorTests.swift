import Crypto
import CryptoExtras
import Foundation
import NIOSSL
import SwiftASN1
import Testing
import WardenTLS
import X509

@Suite("Self-signed certificate generation")
struct CertificateGeneratorTests {
    /// The shared fixture parsed back with swift-certificates.
    private func parsed() throws -> Certificate {
        try Certificate(pemEncoded: try Fixture.certificate().certificatePEM)
    }

    @Test("The key is RSA-4096 and the self-signature verifies with sha256WithRSAEncryption")
    func keyAndSignature() throws {
        let certificate = try parsed()
        #expect(certificate.version == .v3)
        let publicKey = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
        #expect(publicKey.keySizeInBits == 4096)
        #expect(certificate.signatureAlgorithm == .sha256WithRSAEncryption)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.subject.description == "CN=warden")
    }

    @Test("The serial number is random, positive and at most 20 bytes")
    func serialNumber() throws {
        let serial = try parsed().serialNumber.bytes
        #expect((19...20).contains(serial.count))
        #expect(serial.first.map { $0 & 0x80 == 0 } == true)
    }

    @Test("The subject alternative names are exactly the DNS names and the IPs as 4 and 16 bytes")
    func subjectAlternativeNames() throws {
        let names = try #require(try parsed().extensions.subjectAlternativeNames)
        let loopback6: [UInt8] = Array(repeating: 0, count: 15) + [1]
        #expect(
            Array(names) == [
                .dnsName("localhost"),
                .dnsName("warden.example"),
                .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                .ipAddress(ASN1OctetString(contentBytes: loopback6[...])),
            ])
    }

    @Test("Extensions: not a CA, digitalSignature and keyEncipherment, serverAuth, subject key identifier")
    func extensions() throws {
        let extensions = try parsed().extensions
        #expect(try extensions.basicConstraints == .notCertificateAuthority)
        #expect(extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
        let usage = try #require(try extensions.keyUsage)
        #expect(usage.digitalSignature && usage.keyEncipherment)
        #expect(!usage.keyCertSign && !usage.cRLSign)
        #expect(extensions[oid: .X509ExtensionID.keyUsage]?.critical == true)
        #expect(try extensions.extendedKeyUsage.map(Array.init) == [.serverAuth])
        #expect(try extensions.subjectKeyIdentifier?.keyIdentifier.count == 20)
    }

    @Test("The authority key identifier is the certificate's own subject key identifier, not critical")
    func authorityKeyIdentifier() throws {
        let extensions = try parsed().extensions
        let subject = try #require(try extensions.subjectKeyIdentifier)
        let authority = try #require(try extensions.authorityKeyIdentifier)
        #expect(authority.keyIdentifier == subject.keyIdentifier)
        // The key identifier alone: an issuer name and serial would only repeat the certificate.
        #expect(authority.authorityCertIssuer == nil && authority.authorityCertSerialNumber == nil)
        #expect(extensions[oid: .X509ExtensionID.authorityKeyIdentifier]?.critical == false)
    }

    @Test("Valid from five minutes before generation for 397 days")
    func validityWindow() throws {
        let certificate = try parsed()
        #expect(certificate.notValidBefore == Fixture.now - 300)
        #expect(certificate.notValidAfter == Fixture.now + 397 * 86_400)
    }

    @Test("The private key is PKCS #8, loads in NIOSSL and belongs to the certificate")
    func privateKey() throws {
        let generated = try Fixture.certificate()
        #expect(generated.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(generated.privateKeyPEM.hasSuffix("-----END PRIVATE KEY-----\n"))
        #expect(generated.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(generated.certificatePEM.hasSuffix("-----END CERTIFICATE-----\n"))
        _ = try NIOSSLPrivateKey(bytes: Array(generated.privateKeyPEM.utf8), format: .pem)
        let key = try Certificate.PrivateKey(pemEncoded: generated.privateKeyPEM)
        #expect(key.publicKey == (try parsed().publicKey))
    }

    @Test("Printing the value shows the fingerprint, never the key")
    func redactedDescription() throws {
        let generated = try Fixture.certificate()
        let keyBody = generated.privateKeyPEM.split(separator: "\n")[1]
        for text in [String(describing: generated), String(reflecting: generated), "\(generated)"] {
            #expect(!text.contains(keyBody))
            #expect(text.contains(generated.sha256Fingerprint))
        }
        var dumped = ""
        dump(generated, to: &dumped)
        #expect(!dumped.contains(keyBody))
        #expect(generated.sha256Fingerprint.split(separator: ":").count == 32)
    }

    @Test("Python's cryptography package reads the same certificate", arguments: CertificateKeyType.allCases)
    func independentParser(_ keyType: CertificateKeyType) async throws {
        try await Fixture.withFiles(keyType) { files in
            let report = try await Python.json(
                CertificateReport.self, script: "cert_check.py", [files.certificatePath, files.keyPath])
            #expect(report.version == "v3")
            #expect(report.dns_names == ["localhost", "warden.example"])
            #expect(report.ip_addresses == ["127.0.0.1", "::1"])
            #expect(report.ip_address_lengths == [4, 16])
            switch keyType {
            case .rsa4096:
                #expect(report.key_type == "RSA")
                #expect(report.key_size == 4096)
                #expect(report.signature_algorithm == "sha256WithRSAEncryption")
            case .ecP256:
                #expect(report.key_type == "EC secp256r1")
                #expect(report.key_size == 256)
                #expect(report.signature_algorithm == "ecdsa-with-SHA256")
            }
            #expect(report.signature_hash == "sha256")
            #expect(report.self_signature_valid)
            #expect(report.key_matches_certificate)
            #expect(report.serial_positive && report.serial_bytes <= 20)
            #expect(report.subject == "CN=warden" && report.issuer == "CN=warden")
            #expect(report.basic_constraints == .init(ca: false, critical: true))
            #expect(
                report.key_usage
                    == .init(
                        digital_signature: true, key_encipherment: keyType == .rsa4096, key_cert_sign: false, critical: true))
            #expect(report.extended_key_usage == ["serverAuth"])
            #expect(report.subject_key_identifier_bytes == 20)
            #expect(report.not_before == Int(Fixture.now.timeIntervalSince1970) - 300)
            #expect(report.not_after == Int(Fixture.now.timeIntervalSince1970) + 397 * 86_400)
        }
    }

    @Test(
        "pyca/cryptography's RFC 5280 verifier accepts the certificate pinned as its own anchor for its names only",
        arguments: CertificateKeyType.allCases)
    func rfc5280PathValidation(_ keyType: CertificateKeyType) async throws {
        try await Fixture.withFiles(keyType) { files in
            let accepted = Fixture.dnsNames + Fixture.ipAddresses
            let refused = ["other.example", "sub.localhost", "127.0.0.2", "::2"]
            let report = try await Python.json(
                VerificationReport.self, script: "rfc5280_verify.py", [files.certificatePath] + accepted + refused)
            #expect(report.results.map(\.name) == accepted + refused)
            for result in report.results {
                let expected = accepted.contains(result.name)
                #expect(result.accepted == expected, "\(result.name): \(result.error ?? "accepted")")
                if !expected {
                    // Refused for the name, not for anything else about the certificate.
                    #expect(result.error?.contains("no matching subjectAltName") == true, "\(result.error ?? "")")
                }
            }
            #expect(report.subject_key_identifier == report.subject_key_identifier_from_key)
            #expect(report.authority_key_identifier == report.subject_key_identifier)
            #expect(report.authority_key_identifier_critical == false)
        }
    }

    // MARK: - ECDSA P-256

    @Test("An ec-p256 certificate has a P-256 key, an ecdsa-with-SHA256 self-signature and digitalSignature only")
    func ecdsaKeyAndSignature() throws {
        let certificate = try Certificate(pemEncoded: try Fixture.certificate(.ecP256).certificatePEM)
        #expect(certificate.version == .v3)
        #expect(P256.Signing.PublicKey(certificate.publicKey) != nil)
        #expect(_RSA.Signing.PublicKey(certificate.publicKey) == nil)
        #expect(certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.subject == certificate.issuer)
        let extensions = certificate.extensions
        // RFC 5480, section 3: no key encipherment for an elliptic-curve key.
        let usage = try #require(try extensions.keyUsage)
        #expect(usage.digitalSignature && !usage.keyEncipherment && !usage.keyCertSign)
        #expect(extensions[oid: .X509ExtensionID.keyUsage]?.critical == true)
        #expect(try extensions.basicConstraints == .notCertificateAuthority)
        #expect(try extensions.extendedKeyUsage.map(Array.init) == [.serverAuth])
        let subject = try #require(try extensions.subjectKeyIdentifier)
        #expect(try extensions.authorityKeyIdentifier?.keyIdentifier == subject.keyIdentifier)
        let names = try #require(try extensions.subjectAlternativeNames)
        let rsaNames = try #require(try parsed().extensions.subjectAlternativeNames)
        #expect(Array(names) == Array(rsaNames))
    }

    @Test("The ec-p256 private key is PKCS #8, loads in NIOSSL and belongs to the certificate")
    func ecdsaPrivateKey() throws {
        let generated = try Fixture.certificate(.ecP256)
        #expect(generated.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(generated.privateKeyPEM.hasSuffix("-----END PRIVATE KEY-----\n"))
        _ = try NIOSSLPrivateKey(bytes: Array(generated.privateKeyPEM.utf8), format: .pem)
        let key = try Certificate.PrivateKey(pemEncoded: generated.privateKeyPEM)
        #expect(key.publicKey == (try Certificate(pemEncoded: generated.certificatePEM).publicKey))
    }

    @Test("openssl verify accepts the certificate as its own anchor for TLS servers and its names", arguments: CertificateKeyType.allCases)
    func openSSLVerify(_ keyType: CertificateKeyType) async throws {
        try await Fixture.withFiles(keyType) { files in
            for check in [["-verify_hostname", "localhost"], ["-verify_ip", "::1"]] {
                let result = try await ExternalProcess.runOnPath(
                    "openssl",
                    ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", files.certificatePath]
                        + check + [files.certificatePath])
                #expect(result.status == 0, "\(result.combined)")
                #expect(result.stdout == "\(files.certificatePath): OK\n", "\(result.combined)")
            }
            let other = try await ExternalProcess.runOnPath(
                "openssl", ["verify", "-CAfile", files.certificatePath, "-verify_hostname", "other.example", files.certificatePath])
            #expect(other.status != 0)
            #expect(other.combined.contains("hostname mismatch"), "\(other.combined)")
        }
    }

    // MARK: - Refused input (checked before any key is generated, so these are fast)

    @Test(
        "Invalid IP addresses are refused",
        arguments: [
            "", "256.0.0.1", "1.2.3", "1.2.3.4.5", "127.0.0.1 ", " ::1", "::g", "1::2::3", "fe80::1%eth0",
            "10.0.0.0/8", "[::1]", "localhost", "127.0.0.1\u{0}junk", "0x7f.0.0.1",
        ])
    func invalidIPAddress(_ address: String) throws {
        let error = #expect(throws: TLSSetupError.self) {
            try CertificateGenerator.selfSigned(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", address])
        }
        #expect(error?.code == .invalidIPAddress)
        #expect(error?.message.contains("is not an IPv4 address") == true)
    }

    @Test(
        "Invalid DNS names are refused",
        arguments: [
            "", "exa mple.com", "-bad.example", "bad-.example", "a..b", "trailing.dot.", "ünicode.example",
            "under_score.example", "*", "a.*.example", String(repeating: "a", count: 64) + ".example",
        ])
    func invalidDNSName(_ name: String) throws {
        let error = #expect(throws: TLSSetupError.self) {
            try CertificateGenerator.selfSigned(dnsNames: [name], ipAddresses: ["127.0.0.1"])
        }
        #expect(error?.code == .invalidName)
    }

    @Test("A certificate without any name, with a bad common name or a bad validity is refused")
    func otherRefusals() throws {
        #expect(throws: TLSSetupError.self) {
            try CertificateGenerator.selfSigned(dnsNames: [], ipAddresses: [])
        }
        let longName = #expect(throws: TLSSetupError.self) {
            try CertificateGenerator.selfSigned(
                commonName: String(repeating: "w", count: 65), dnsNames: ["localhost"], ipAddresses: [])
        }
        #expect(longName?.code == .invalidName)
        for validity in [0, -1, .infinity, .nan] as [TimeInterval] {
            let error = #expect(throws: TLSSetupError.self) {
                try CertificateGenerator.selfSigned(dnsNames: ["localhost"], ipAddresses: [], validity: validity)
            }
            #expect(error?.code == .invalidValidity)
        }
    }
}

/// What `python/cert_check.py` prints.
private struct CertificateReport: Decodable {
    struct BasicConstraints: Decodable, Equatable {
        var ca: Bool
        var critical: Bool
    }

    struct KeyUsage: Decodable, Equatable {
        var digital_signature: Bool
        var key_encipherment: Bool
        var key_cert_sign: Bool
        var critical: Bool
    }

    var version: String
    var serial_bytes: Int
    var serial_positive: Bool
    var subject: String
    var issuer: String
    var dns_names: [String]
    var ip_addresses: [String]
    var ip_address_lengths: [Int]
    var key_type: String
    var key_size: Int
    var signature_algorithm: String
    var signature_hash: String
    var self_signature_valid: Bool
    var key_matches_certificate: Bool
    var basic_constraints: BasicConstraints
    var key_usage: KeyUsage
    var extended_key_usage: [String]
    var subject_key_identifier_bytes: Int
    var not_before: Int
    var not_after: Int
}

/// What `python/rfc5280_verify.py` prints.
private struct VerificationReport: Decodable {
    struct Result: Decodable {
        var name: String
        var accepted: Bool
        var error: String?
    }

    var results: [Result]
    var authority_key_identifier: String?
    var authority_key_identifier_critical: Bool?
    var subject_key_identifier: String?
    var subject_key_identifier_from_key: String
}
