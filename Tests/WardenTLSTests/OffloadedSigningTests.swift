import Crypto
import Foundation
import Synchronization
import Testing

@testable import WardenTLS

/// Handshake signatures made off the event loop (`OffloadedSigningKey`, RSA keys): every signature scheme
/// the key offers is checked by OpenSSL as a client (a wrong signature fails the handshake), the
/// signatures are counted on the signing pool; P-256 keys sign on the loop (nothing is counted); and a key
/// that is not the certificate's is refused before any handshake.
@Suite("Handshake signatures off the event loop")
struct OffloadedSigningTests {
    /// A key type, a protocol flag and `-sigalgs` for openssl, and what s_client then reports.
    struct Scheme: Sendable, CustomTestStringConvertible {
        var keyType: CertificateKeyType
        var protocolFlag: String
        var sigalgs: String
        var type: String
        var digest: String
        var testDescription: String { "\(keyType.rawValue) \(protocolFlag) \(sigalgs)" }
    }

    static let schemes: [Scheme] = [
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_3", sigalgs: "rsa_pss_rsae_sha256", type: "RSA-PSS", digest: "SHA256"),
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_3", sigalgs: "rsa_pss_rsae_sha384", type: "RSA-PSS", digest: "SHA384"),
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_3", sigalgs: "rsa_pss_rsae_sha512", type: "RSA-PSS", digest: "SHA512"),
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_2", sigalgs: "RSA+SHA256", type: "RSA", digest: "SHA256"),
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_2", sigalgs: "RSA+SHA384", type: "RSA", digest: "SHA384"),
        Scheme(keyType: .rsa4096, protocolFlag: "-tls1_2", sigalgs: "RSA+SHA512", type: "RSA", digest: "SHA512"),
        Scheme(keyType: .ecP256, protocolFlag: "-tls1_3", sigalgs: "ECDSA+SHA256", type: "ECDSA", digest: "SHA256"),
        Scheme(keyType: .ecP256, protocolFlag: "-tls1_2", sigalgs: "ECDSA+SHA256", type: "ECDSA", digest: "SHA256"),
    ]

    @Test("Each signature scheme verifies in OpenSSL; RSA's are made on the signing pool, P-256's on the loop", arguments: schemes)
    func schemeVerifies(_ scheme: Scheme) async throws {
        let (keyType, protocolFlag, sigalgs, type, digest) = (scheme.keyType, scheme.protocolFlag, scheme.sigalgs, scheme.type, scheme.digest)
        try await Fixture.withFiles(keyType) { files in
            let settings = TLSSettings(certificatePath: files.certificatePath, keyPath: files.keyPath, minimumVersion: .tls12)
            #expect(settings.signsOffEventLoop)
            try await LineServer.with(context: try settings.makeServerContext()) { server in
                let before = OffloadedSigningKey.signaturesMade.load(ordering: .relaxed)
                let result = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: protocolFlag,
                    extra: ["-sigalgs", sigalgs, "-verify_hostname", "localhost"])
                #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
                #expect(result.stdout.contains("Peer signature type: \(type)\n"), "\(result.stdout)")
                #expect(result.stdout.contains("Peer signing digest: \(digest)\n"), "\(result.stdout)")
                #expect(result.stdout.contains(LineServer.line))
                // Other suites may make offloaded signatures meanwhile, so only the RSA case is counted.
                if keyType == .rsa4096 { #expect(OffloadedSigningKey.signaturesMade.load(ordering: .relaxed) > before) }
            }
        }
    }

    @Test("Only RSA keys sign off the loop: a P-256 signature is cheaper than the hand-over", arguments: CertificateKeyType.allCases)
    func onlyRSAIsOffloaded(_ keyType: CertificateKeyType) async throws {
        try await Fixture.withFiles(keyType) { files in
            let pem = try String(contentsOfFile: files.keyPath, encoding: .utf8)
            #expect((OffloadedSigningKey.make(pem: pem) != nil) == (keyType == .rsa4096))
        }
    }

    @Test("With signsOffEventLoop off, handshakes still work (NIOSSL signs on the loop)")
    func onTheLoop() async throws {
        try await Fixture.withFiles(.rsa4096) { files in
            var settings = TLSSettings(certificatePath: files.certificatePath, keyPath: files.keyPath)
            settings.signsOffEventLoop = false
            try await LineServer.with(context: try settings.makeServerContext()) { server in
                let result = try await OpenSSLClient.connect(
                    port: server.port, caFile: files.certificatePath, protocolFlag: "-tls1_3",
                    extra: ["-verify_hostname", "localhost"])
                #expect(result.status == 0 && !result.timedOut, "\(result.combined)")
                #expect(result.stdout.contains(LineServer.line))
            }
        }
    }

    @Test("A key of the other type or another key of the same type is refused as not the certificate's", arguments: CertificateKeyType.allCases)
    func mismatchRefused(_ keyType: CertificateKeyType) async throws {
        try await Fixture.withFiles(keyType) { files in
            let other = try CertificateGenerator.selfSigned(dnsNames: ["localhost"], ipAddresses: [], keyType: .ecP256)
            let otherKeyPath = files.directory + "/other-key.pem"
            let otherCertificatePath = files.directory + "/other-cert.pem"
            try CertificateGenerator.write(other, certificatePath: otherCertificatePath, keyPath: otherKeyPath)
            let error = #expect(throws: TLSSetupError.self) {
                try TLSSettings(certificatePath: files.certificatePath, keyPath: otherKeyPath).makeServerConfiguration()
            }
            #expect(error?.code == .keyMismatch)
            #expect(error?.message.contains(otherKeyPath) == true)
        }
    }

    /// P-384 and P-521 keys never sign off the loop; their match is checked before the context is made all
    /// the same (`TLSSettings.publicKeySPKI(pem:)`), not left to the first handshake.
    @Test("A P-384 or P-521 key that is not the certificate's is refused", arguments: ["P-384", "P-521"])
    func otherCurveMismatchRefused(_ curve: String) async throws {
        try await Fixture.withFiles(.ecP256) { files in
            let pem = curve == "P-384" ? P384.Signing.PrivateKey().pemRepresentation : P521.Signing.PrivateKey().pemRepresentation
            let otherKeyPath = files.directory + "/other-key.pem"
            #expect(FileManager.default.createFile(atPath: otherKeyPath, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]))
            let error = #expect(throws: TLSSetupError.self) {
                try TLSSettings(certificatePath: files.certificatePath, keyPath: otherKeyPath).makeServerConfiguration()
            }
            #expect(error?.code == .keyMismatch, "\(String(describing: error))")
            #expect(error?.message.contains("PRIVATE KEY") == false)
        }
    }
}
