import Foundation

/// A `postgres://` URL, parsed: where to connect, as whom, and how to secure the connection.
///
/// The query takes libpq's names: `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
/// `verify-full`), `sslrootcert` (a PEM file of CA certificates, or `system`), and `sslcert` with `sslkey`
/// (a client certificate and its unencrypted PEM key). Other query items are ignored.
///
/// - Important: Warden never encrypts without authenticating the server. Unlike libpq, `require` verifies
///   the certificate chain and the host name (as `verify-full` does); `verify-ca` is the only mode that skips
///   the host name. Without `sslmode`, TLS is required and fully verified except on the loopback address,
///   where it is preferred (and verified when the server offers it).
struct DatabaseURL: Sendable {
    /// How the connection is secured, from libpq's `sslmode`.
    enum TLSMode: String, Sendable {
        /// Plaintext.
        case disable
        /// TLS when the server offers it (verified as `verifyFull`), plaintext when it does not.
        case prefer
        /// TLS; the chain and the host name are verified (stricter than libpq's `require`).
        case require
        /// TLS; the chain is verified, the host name is not.
        case verifyCA = "verify-ca"
        /// TLS; the chain and the host name are verified.
        case verifyFull = "verify-full"
    }

    /// Where the CA certificates that authenticate the server come from.
    enum TrustRoots: Sendable, Equatable {
        /// The operating system's store.
        case system
        /// The PEM file at this path only (`sslrootcert`).
        case file(String)
    }

    let host: String
    let port: Int
    let username: String
    let password: String?
    let database: String?
    let tlsMode: TLSMode
    let trustRoots: TrustRoots
    /// The client certificate chain and key (`sslcert`, `sslkey`), PEM files.
    let clientCertificate: (certificatePath: String, keyPath: String)?

    /// Parses `text`.
    ///
    /// - Throws: `SQLStoreError.Code.invalidConfiguration`, naming the setting at fault and never repeating
    ///   the URL (it may hold a password).
    init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            ["postgres", "postgresql"].contains(components.scheme?.lowercased() ?? ""),
            let host = components.host, !host.isEmpty,
            let username = components.user, !username.isEmpty
        else {
            // The URL may hold a password: never repeat it.
            throw SQLStoreError(.invalidConfiguration, "WARDEN_DATABASE_URL must look like postgres://user:password@host:port/database")
        }
        self.host = host
        port = components.port ?? 5432
        self.username = username
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path

        let query = components.queryItems ?? []
        func parameter(_ names: String...) -> String? { query.last { names.contains($0.name) }?.value }
        let isLoopback = ["localhost", "127.0.0.1", "::1"].contains(host)
        switch parameter("sslmode", "tlsmode", "ssl", "tls") {
        case nil: tlsMode = isLoopback ? .prefer : .require
        case "disable", "false": tlsMode = .disable
        case "prefer", "allow", "true": tlsMode = .prefer
        case "require": tlsMode = .require
        case "verify-ca": tlsMode = .verifyCA
        case "verify-full": tlsMode = .verifyFull
        default:
            throw SQLStoreError(
                .invalidConfiguration,
                "unknown sslmode in WARDEN_DATABASE_URL (use disable, prefer, require, verify-ca or verify-full)")
        }

        switch parameter("sslrootcert") {
        case nil, "system": trustRoots = .system
        case "": throw SQLStoreError(.invalidConfiguration, "sslrootcert in WARDEN_DATABASE_URL is empty (give the path of a PEM file of CA certificates)")
        case let path?: trustRoots = .file(path)
        }

        switch (parameter("sslcert"), parameter("sslkey")) {
        case (nil, nil): clientCertificate = nil
        case (let certificate?, let key?) where !certificate.isEmpty && !key.isEmpty: clientCertificate = (certificate, key)
        default:
            throw SQLStoreError(.invalidConfiguration, "sslcert and sslkey in WARDEN_DATABASE_URL go together (a client certificate and its key, PEM files)")
        }

        if tlsMode == .disable, trustRoots != .system || clientCertificate != nil {
            // Certificates that would never be used suggest the operator believes the connection is secured.
            throw SQLStoreError(.invalidConfiguration, "sslrootcert, sslcert and sslkey in WARDEN_DATABASE_URL have no effect with sslmode=disable")
        }
    }
}
