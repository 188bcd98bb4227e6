import Foundation
import NIOSSL

extension DatabaseURL {
    /// The TLS configuration `tlsMode` asks for, or nil for `disable`.
    ///
    /// Every mode that encrypts verifies the server's chain: against `sslrootcert` alone when it is given,
    /// else against the system store. All but `verify-ca` verify the host name too (NIOSSL matches a DNS
    /// name in the certificate against the URL's host name, and an IP address in it against the address
    /// connected to). The files are read here, once, so a wrong path fails at startup.
    ///
    /// - Throws: `SQLStoreError.Code.invalidConfiguration` naming the setting (`sslrootcert`, `sslcert`,
    ///   `sslkey`) and the path when a file is missing, unreadable, not PEM, or (the key) readable by others.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard tlsMode != .disable else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = tlsMode == .verifyCA ? .noHostnameVerification : .fullVerification
        if case .file(let path) = trustRoots {
            let certificates = try Self.load("sslrootcert", path) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !certificates.isEmpty else {
                throw SQLStoreError(.invalidConfiguration, "sslrootcert in WARDEN_DATABASE_URL: \(path) holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        if let client = clientCertificate {
            let (certificatePath, keyPath) = client
            let chain = try Self.load("sslcert", certificatePath) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !chain.isEmpty else {
                throw SQLStoreError(.invalidConfiguration, "sslcert in WARDEN_DATABASE_URL: \(certificatePath) holds no PEM certificate")
            }
            try Self.requireOwnerOnly(keyPath)
            let key = try Self.load("sslkey", keyPath) { try NIOSSLPrivateKey(file: $0, format: .pem) }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        }
        return configuration
    }

    /// Reads the file at `path` for `setting` with `read`, turning every failure into a message that names
    /// the setting and the path (and nothing of the file's content).
    private static func load<T>(_ setting: String, _ path: String, _ read: (String) throws -> T) throws -> T {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SQLStoreError(.invalidConfiguration, "\(setting) in WARDEN_DATABASE_URL: \(path) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw SQLStoreError(.invalidConfiguration, "\(setting) in WARDEN_DATABASE_URL: \(path) is a directory, not a PEM file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw SQLStoreError(.invalidConfiguration, "\(setting) in WARDEN_DATABASE_URL: \(path) is not readable")
        }
        do {
            return try read(path)
        } catch {
            throw SQLStoreError(.invalidConfiguration, "\(setting) in WARDEN_DATABASE_URL: \(path) is not a PEM file of the expected kind")
        }
    }

    /// Refuses a private key that the group or others may read or write (libpq does the same).
    private static func requireOwnerOnly(_ path: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
        else { return }  // missing or unreadable: `load` says which
        if permissions & 0o077 != 0 {
            throw SQLStoreError(
                .invalidConfiguration,
                "sslkey in WARDEN_DATABASE_URL: \(path) must be readable by its owner only (mode 0600 or stricter)")
        }
    }
}
