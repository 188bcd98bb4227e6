import CryptoExtras
import Foundation
import NIOSSL
import Testing
import WardenTLS

@Suite("Loading the server TLS configuration")
struct TLSSettingsTests {
    @Test("TLS 1.3 is the default minimum, TLS 1.2 an explicit opt-in, and 1.3 the maximum")
    func versions() async throws {
        try await Fixture.withFiles { files in
            let settings = TLSSettings(certificatePath: files.certificatePath, keyPath: files.keyPath)
            #expect(settings.minimumVersion == .tls13)
            let strict = try settings.makeServerConfiguration()
            #expect(strict.minimumTLSVersion == .tlsv13)
            #expect(strict.maximumTLSVersion == .tlsv13)
            #expect(strict.certificateChain.count == 1)

            var lenient = settings
            lenient.minimumVersion = .tls12
            let configuration = try lenient.makeServerConfiguration()
            #expect(configuration.minimumTLSVersion == .tlsv12)
            #expect(configuration.maximumTLSVersion == .tlsv13)
            _ = try settings.makeServerContext()
        }
    }

    @Test("The TLS 1.2 cipher list holds ECDHE with AES-GCM and ChaCha20-Poly1305 only, whatever the minimum")
    func tls12CipherSuites() async throws {
        try await Fixture.withFiles { files in
            // Read back from a BoringSSL context built from the configuration, not from the list it was
            // given: what the server would really offer.
            let expected: Set<NIOTLSCipher> = [
                .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
            #expect(Set(TLSSettings.tls12CipherSuites) == expected)
            for minimum in TLSSettings.MinimumVersion.allCases {
                let settings = TLSSettings(
                    certificatePath: files.certificatePath, keyPath: files.keyPath, minimumVersion: minimum)
                let offered = try settings.makeServerConfiguration().cipherSuiteValues
                #expect(Set(offered) == expected, "\(minimum): \(offered)")
                #expect(offered.count == expected.count)
            }
        }
    }

    @Test("A key file that group or others can access is refused", arguments: [0o644, 0o640, 0o604, 0o620, 0o602])
    func insecureKey(mode: Int) async throws {
        try await Fixture.withFiles { files in
            try Fixture.setMode(mode, files.keyPath)
            let error = #expect(throws: TLSSetupError.self) {
                try TLSSettings(certificatePath: files.certificatePath, keyPath: files.keyPath).makeServerContext()
            }
            #expect(error?.code == .insecurePermissions)
            #expect(error?.message.contains(files.keyPath) == true)
            #expect(error?.message.contains("chmod 600") == true)
        }
    }

    @Test("Missing, empty and wrong files give clear errors that contain no key material")
    func loadErrors() async throws {
        try await Fixture.withFiles { files in
            let generated = try Fixture.certificate()
            let keyLines = generated.privateKeyPEM.split(separator: "\n").dropFirst().dropLast().map(String.init)
            func failure(certificate: String, key: String) -> TLSSetupError? {
                #expect(throws: TLSSetupError.self) {
                    try TLSSettings(certificatePath: certificate, keyPath: key).makeServerContext()
                }
            }
            func write(_ text: String, _ name: String) throws -> String {
                let path = files.directory + "/" + name
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                try Fixture.setMode(0o600, path)
                return path
            }

            let missing = files.directory + "/missing.pem"
            let cases: [(certificate: String, key: String, code: TLSSetupError.Code)] = [
                (missing, files.keyPath, .fileSystem),
                (files.certificatePath, missing, .fileSystem),
                (files.directory, files.keyPath, .fileSystem),
                (try write("", "empty.pem"), files.keyPath, .invalidCertificate),
                (try write("not a certificate\n", "garbage.pem"), files.keyPath, .invalidCertificate),
                // The key file given as the certificate, and the other way round.
                (files.keyPath, files.keyPath, .invalidCertificate),
                (files.certificatePath, try write(generated.certificatePEM, "cert-as-key.pem"), .invalidPrivateKey),
                (files.certificatePath, try write("", "empty.key"), .invalidPrivateKey),
                // A truncated key: the PEM armour intact, most of the DER missing.
                (files.certificatePath, try write(truncated(generated.privateKeyPEM), "truncated.key"), .invalidPrivateKey),
            ]
            for (certificate, key, code) in cases {
                let error = failure(certificate: certificate, key: key)
                #expect(error?.code == code, "\(certificate) / \(key): \(String(describing: error))")
                let text = String(describing: error)
                #expect(!keyLines.contains { text.contains($0) }, "the error message contains key material")
                #expect(!text.contains("PRIVATE KEY"))
            }
        }
    }

    @Test("A key that does not belong to the certificate is refused")
    func mismatchedKey() async throws {
        try await Fixture.withFiles { files in
            // A 2048-bit key is enough to be wrong, and much quicker to generate than another 4096-bit one.
            let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let otherKeyPath = files.directory + "/other.key"
            #expect(
                FileManager.default.createFile(
                    atPath: otherKeyPath, contents: Data(otherKey.pkcs8PEMRepresentation.utf8),
                    attributes: [.posixPermissions: 0o600]))
            let error = #expect(throws: TLSSetupError.self) {
                try TLSSettings(certificatePath: files.certificatePath, keyPath: otherKeyPath).makeServerContext()
            }
            #expect(error?.code == .keyMismatch, "\(String(describing: error?.cause))")
            #expect(error?.message.contains(otherKeyPath) == true)
        }
    }

    @Test("HSTS: one year by default, subdomains only when asked, never a negative age")
    func strictTransportSecurity() {
        let settings = TLSSettings(certificatePath: "c", keyPath: "k")
        #expect(settings.strictTransportSecurity?.headerValue == "max-age=31536000")
        #expect(StrictTransportSecurity.headerName == "Strict-Transport-Security")
        #expect(StrictTransportSecurity(maxAge: 600, includeSubdomains: true).headerValue == "max-age=600; includeSubDomains")
        #expect(StrictTransportSecurity(maxAge: -5).headerValue == "max-age=0")
        #expect(TLSSettings(certificatePath: "c", keyPath: "k", strictTransportSecurity: nil).strictTransportSecurity == nil)
    }

    private func truncated(_ pem: String) -> String {
        let lines = pem.split(separator: "\n")
        return (lines.prefix(4) + lines.suffix(1)).joined(separator: "\n") + "\n"
    }
}
