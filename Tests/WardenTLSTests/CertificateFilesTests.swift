import Foundation
import SwiftASN1
import Testing
import WardenTLS
import X509

@Suite("Writing certificate files and the embedded default")
struct CertificateFilesTests {
    @Test("The key is written with mode 0600 and the certificate with 0644, into a new 0700 directory")
    func modes() async throws {
        try await Fixture.withTemporaryDirectory { directory in
            let generated = try Fixture.certificate()
            let tlsDirectory = directory + "/nested/tls"
            try CertificateGenerator.write(
                generated, certificatePath: tlsDirectory + "/cert.pem", keyPath: tlsDirectory + "/key.pem")
            #expect(try Fixture.mode(tlsDirectory + "/key.pem") == 0o600)
            #expect(try Fixture.mode(tlsDirectory + "/cert.pem") == 0o644)
            #expect(try Fixture.mode(tlsDirectory) == 0o700)
            #expect(try Fixture.mode(directory + "/nested") == 0o700)
            #expect(try String(contentsOfFile: tlsDirectory + "/key.pem", encoding: .utf8) == generated.privateKeyPEM)
            #expect(try String(contentsOfFile: tlsDirectory + "/cert.pem", encoding: .utf8) == generated.certificatePEM)
        }
    }

    @Test("Existing files are refused and left untouched unless overwriting is asked for")
    func exclusiveCreation() async throws {
        try await Fixture.withFiles { files in
            let generated = try Fixture.certificate()
            let other = files.directory + "/other.pem"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: other))

            // An existing key, an existing certificate: each is refused and nothing is written.
            let keyExists = #expect(throws: TLSSetupError.self) {
                try CertificateGenerator.write(generated, certificatePath: files.directory + "/new.pem", keyPath: other)
            }
            #expect(keyExists?.code == .fileExists)
            let certificateExists = #expect(throws: TLSSetupError.self) {
                try CertificateGenerator.write(generated, certificatePath: other, keyPath: files.directory + "/new.key")
            }
            #expect(certificateExists?.code == .fileExists)
            #expect(!FileManager.default.fileExists(atPath: files.directory + "/new.pem"))
            #expect(!FileManager.default.fileExists(atPath: files.directory + "/new.key"))
            #expect(try String(contentsOfFile: other, encoding: .utf8) == "keep me")

            // Overwriting replaces both files and sets the modes again.
            try Fixture.setMode(0o644, files.keyPath)
            try Data("old".utf8).write(to: URL(fileURLWithPath: files.certificatePath))
            try CertificateGenerator.write(
                generated, certificatePath: files.certificatePath, keyPath: files.keyPath, overwrite: true)
            #expect(try Fixture.mode(files.keyPath) == 0o600)
            #expect(try Fixture.mode(files.certificatePath) == 0o644)
            #expect(try String(contentsOfFile: files.certificatePath, encoding: .utf8) == generated.certificatePEM)
        }
    }

    @Test("A symbolic link where the key would go is refused, not followed")
    func symbolicLink() async throws {
        try await Fixture.withTemporaryDirectory { directory in
            try FileManager.default.createSymbolicLink(atPath: directory + "/key.pem", withDestinationPath: directory + "/elsewhere")
            let error = #expect(throws: TLSSetupError.self) {
                try CertificateGenerator.write(
                    try Fixture.certificate(), certificatePath: directory + "/cert.pem", keyPath: directory + "/key.pem")
            }
            #expect(error?.code == .fileExists)
            #expect(!FileManager.default.fileExists(atPath: directory + "/elsewhere"))
        }
    }

    @Test("ensure reuses an existing pair without changing it")
    func ensureReuses() async throws {
        try await Fixture.withTemporaryDirectory { directory in
            let generated = try Fixture.certificate()
            try CertificateGenerator.write(
                generated, certificatePath: directory + "/tls/cert.pem", keyPath: directory + "/tls/key.pem")
            let result = try CertificateGenerator.ensure(
                directory: directory, dnsNames: ["other.example"], ipAddresses: [])
            #expect(result.generated == false)
            #expect(result.certificatePath == directory + "/tls/cert.pem")
            #expect(result.keyPath == directory + "/tls/key.pem")
            #expect(try String(contentsOfFile: result.certificatePath, encoding: .utf8) == generated.certificatePEM)
            // Kept, but the operator hears that clients using the new name will refuse it.
            #expect(result.warnings.count == 1)
            #expect(result.warnings.first?.contains("does not name other.example") == true)
            let matching = try CertificateGenerator.ensure(directory: directory, dnsNames: ["LOCALHOST"], ipAddresses: ["::1", "127.0.0.1"])
            #expect(matching.warnings.isEmpty)
        }
    }

    @Test("ensure renews a certificate it generated before it expires, and only that kind")
    func ensureRenews() async throws {
        try await Fixture.withTemporaryDirectory { directory in
            let day: TimeInterval = 86_400
            let now = Fixture.now
            // Warden's own, expiring in ten days (and, second round, already expired): replaced.
            for (issued, validity) in [(now - 387 * day, 397 * day), (now - 400 * day, 397 * day)] {
                let old = try CertificateGenerator.selfSigned(dnsNames: ["localhost"], ipAddresses: [], validity: validity, now: issued)
                try CertificateGenerator.write(
                    old, certificatePath: directory + "/tls/cert.pem", keyPath: directory + "/tls/key.pem", overwrite: true)
                let result = try CertificateGenerator.ensure(directory: directory, dnsNames: ["localhost"], ipAddresses: [], now: now)
                #expect(result.renewed && result.generated)
                #expect(result.warnings.isEmpty)
                let renewed = try CertificateInspection.read(certificatePath: result.certificatePath)
                #expect(renewed.notValidAfter == now + 397 * day)
                #expect(renewed.generatedByWarden)
                #expect(try String(contentsOfFile: result.keyPath, encoding: .utf8) != old.privateKeyPEM)
                #expect(try Fixture.mode(result.keyPath) == 0o600)
                _ = try TLSSettings(certificatePath: result.certificatePath, keyPath: result.keyPath).makeServerContext()
            }
            // Valid for longer than the window: kept.
            let kept = try CertificateGenerator.ensure(directory: directory, dnsNames: ["localhost"], ipAddresses: [], now: now + 300 * day)
            #expect(!kept.renewed && !kept.generated)

            // An operator's certificate (another subject) is reported, never replaced.
            for (issued, expected) in [(now - 387 * day, "expires at"), (now - 400 * day, "expired at")] {
                let operators = try CertificateGenerator.selfSigned(commonName: "api.example", dnsNames: ["localhost"], ipAddresses: [], now: issued)
                try CertificateGenerator.write(
                    operators, certificatePath: directory + "/tls/cert.pem", keyPath: directory + "/tls/key.pem", overwrite: true)
                let result = try CertificateGenerator.ensure(directory: directory, dnsNames: ["localhost"], ipAddresses: [], now: now)
                #expect(!result.renewed && !result.generated)
                #expect(result.warnings.count == 1)
                #expect(result.warnings.first?.contains(expected) == true, "\(result.warnings)")
                #expect(try String(contentsOfFile: result.certificatePath, encoding: .utf8) == operators.certificatePEM)
                #expect(try !CertificateInspection.read(certificatePath: result.certificatePath).generatedByWarden)
            }
        }
    }

    @Test("ensure refuses an existing key that others can read", arguments: [0o644, 0o640, 0o604, 0o660])
    func ensureRefusesReadableKey(mode: Int) async throws {
        try await Fixture.withTemporaryDirectory { directory in
            try CertificateGenerator.write(
                try Fixture.certificate(), certificatePath: directory + "/tls/cert.pem",
                keyPath: directory + "/tls/key.pem")
            try Fixture.setMode(mode, directory + "/tls/key.pem")
            let error = #expect(throws: TLSSetupError.self) {
                try CertificateGenerator.ensure(directory: directory, dnsNames: ["localhost"], ipAddresses: [])
            }
            #expect(error?.code == .insecurePermissions)
            #expect(error?.message.contains("chmod 600") == true)
            #expect(try Fixture.mode(directory + "/tls/key.pem") == mode)
        }
    }

    @Test("ensure refuses a lone key or a lone certificate")
    func ensureRefusesIncompletePair() async throws {
        try await Fixture.withFiles { files in
            try FileManager.default.createDirectory(atPath: files.directory + "/a/tls", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: files.keyPath, toPath: files.directory + "/a/tls/key.pem")
            try FileManager.default.createDirectory(atPath: files.directory + "/b/tls", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: files.certificatePath, toPath: files.directory + "/b/tls/cert.pem")
            for directory in [files.directory + "/a", files.directory + "/b"] {
                let error = #expect(throws: TLSSetupError.self) {
                    try CertificateGenerator.ensure(directory: directory, dnsNames: ["localhost"], ipAddresses: [])
                }
                #expect(error?.code == .incompletePair)
            }
        }
    }

    @Test("ensure generates a pair on first run and reuses it afterwards")
    func ensureGenerates() async throws {
        try await Fixture.withTemporaryDirectory { directory in
            let data = directory + "/data"
            let first = try CertificateGenerator.ensure(
                directory: data, dnsNames: ["warden.local"], ipAddresses: ["10.1.2.3"])
            #expect(first.generated)
            #expect(try Fixture.mode(data) == 0o700)
            #expect(try Fixture.mode(data + "/tls") == 0o700)
            #expect(try Fixture.mode(first.keyPath) == 0o600)
            #expect(try Fixture.mode(first.certificatePath) == 0o644)
            let certificate = try Certificate(pemEncoded: String(contentsOfFile: first.certificatePath, encoding: .utf8))
            #expect(
                try certificate.extensions.subjectAlternativeNames.map(Array.init) == [
                    .dnsName("warden.local"), .ipAddress(.init(contentBytes: [10, 1, 2, 3])),
                ])
            _ = try TLSSettings(certificatePath: first.certificatePath, keyPath: first.keyPath).makeServerContext()

            let second = try CertificateGenerator.ensure(directory: data, dnsNames: ["warden.local"], ipAddresses: [])
            #expect(!second.generated)
            #expect(second.certificatePath == first.certificatePath)
        }
    }
}
