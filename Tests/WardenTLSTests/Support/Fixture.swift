import Foundation
import WardenTLS

/// The certificates the tests share, one per key type: RSA-4096 generation takes a second or more, so each
/// is made once, on first use, and written into a fresh directory by each test that needs files.
enum Fixture {
    static let dnsNames = ["localhost", "warden.example"]
    static let ipAddresses = ["127.0.0.1", "::1"]
    /// The generation time, in whole seconds because certificates store no fractions.
    static let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

    private static let shared = Result { () throws(TLSSetupError) -> GeneratedCertificate in
        try CertificateGenerator.selfSigned(dnsNames: dnsNames, ipAddresses: ipAddresses, now: now)
    }

    private static let sharedECDSA = Result { () throws(TLSSetupError) -> GeneratedCertificate in
        try CertificateGenerator.selfSigned(dnsNames: dnsNames, ipAddresses: ipAddresses, now: now, keyType: .ecP256)
    }

    /// The shared certificate of the given key type (RSA-4096 unless told), generated on first use.
    static func certificate(_ keyType: CertificateKeyType = .rsa4096) throws -> GeneratedCertificate {
        switch keyType {
        case .rsa4096: try shared.get()
        case .ecP256: try sharedECDSA.get()
        }
    }

    /// Paths of the fixture written to disk.
    struct Files {
        let directory: String
        let certificatePath: String
        let keyPath: String
    }

    /// Runs `body` with a fresh temporary directory, removed afterwards.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("warden-tls-tests-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(directory)
    }

    /// Runs `body` with the shared certificate of `keyType` written as `cert.pem` and `key.pem` into a
    /// fresh directory.
    static func withFiles<T>(
        _ keyType: CertificateKeyType = .rsa4096, _ body: (Files) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory { directory in
            let files = Files(
                directory: directory, certificatePath: directory + "/cert.pem", keyPath: directory + "/key.pem")
            try CertificateGenerator.write(
                try certificate(keyType), certificatePath: files.certificatePath, keyPath: files.keyPath)
            return try await body(files)
        }
    }

    /// The permission bits of the file at `path`.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func setMode(_ mode: Int, _ path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
