public import NIOSSL

/// How Warden terminates TLS: which certificate and key files to serve, and the oldest protocol version
/// to accept.
///
/// TLS 1.3 is the only version accepted unless ``minimumVersion`` is lowered to ``MinimumVersion/tls12``
/// explicitly, for clients that cannot be upgraded. Versions before 1.2 cannot be configured. TLS 1.2
/// clients get only ECDHE key exchange with AEAD ciphers (``tls12CipherSuites``).
///
/// ```swift
/// let settings = TLSSettings(certificatePath: "/etc/warden/tls/cert.pem", keyPath: "/etc/warden/tls/key.pem")
/// let sslContext = try settings.makeServerContext()
/// // In the child channel initializer:
/// // try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
/// ```
public struct TLSSettings: Sendable {
    /// The oldest TLS version a server accepts.
    public enum MinimumVersion: String, Sendable, CaseIterable {
        /// Only TLS 1.3. The default.
        case tls13
        /// TLS 1.2 and 1.3: an explicit opt-in for older clients. TLS 1.2 is limited to
        /// ``TLSSettings/tls12CipherSuites``: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305.
        case tls12
    }

    /// The PEM file with the server certificate, followed by any intermediate certificates.
    public var certificatePath: String
    /// The PEM file with the unencrypted private key of the certificate (PKCS #8, PKCS #1 or SEC 1).
    /// It must have mode `0600` or narrower.
    public var keyPath: String
    /// The oldest TLS version accepted; ``MinimumVersion/tls13`` unless lowered on purpose.
    public var minimumVersion: MinimumVersion
    /// The `Strict-Transport-Security` policy the HTTP layer sends on responses served over this TLS
    /// configuration, or `nil` to send none.
    public var strictTransportSecurity: StrictTransportSecurity?
    /// Whether handshake signatures with an RSA key (about 4 ms each for RSA-4096) are made on a thread of
    /// their own rather than on the connection's event loop, where they would hold up the requests of the
    /// loop's other connections (see `OffloadedSigningKey`). On by default; other key types (P-256: about
    /// 20 µs, less than the hand-over) always sign on the loop.
    public var signsOffEventLoop: Bool = true

    /// Creates TLS settings.
    ///
    /// - Parameters:
    ///   - certificatePath: The PEM certificate chain, server certificate first.
    ///   - keyPath: The PEM private key file, mode `0600` or narrower.
    ///   - minimumVersion: The oldest TLS version accepted; TLS 1.3 only by default.
    ///   - strictTransportSecurity: The HSTS policy for responses over TLS; one year by default.
    public init(
        certificatePath: String,
        keyPath: String,
        minimumVersion: MinimumVersion = .tls13,
        strictTransportSecurity: StrictTransportSecurity? = StrictTransportSecurity()
    ) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.minimumVersion = minimumVersion
        self.strictTransportSecurity = strictTransportSecurity
    }

    /// Loads the certificate chain and key and builds the server's TLS configuration.
    ///
    /// Use this instead of ``makeServerContext()`` to change what the context does not fix, such as the
    /// ALPN protocols, before creating the context yourself.
    ///
    /// > Important: The key file is refused when group or other users can access it. Its mode is
    /// > checked on the descriptor the key is then read from, so the file cannot be swapped in between.
    ///
    /// - Throws: ``TLSSetupError`` with ``TLSSetupError/Code/fileSystem`` when a file cannot be read,
    ///   ``TLSSetupError/Code/insecurePermissions`` for a key file with a mode broader than `0600`,
    ///   ``TLSSetupError/Code/invalidCertificate`` or ``TLSSetupError/Code/invalidPrivateKey`` when a file
    ///   holds nothing usable, and ``TLSSetupError/Code/keyMismatch`` when an RSA, P-256, P-384 or P-521
    ///   key does not belong to the certificate (BoringSSL checks other keys when the context is made).
    ///   Messages name the file and never contain its contents.
    public func makeServerConfiguration() throws(TLSSetupError) -> TLSConfiguration {
        let certificateBytes = try PrivateFile.read(certificatePath, what: "certificate file", ownerOnly: false)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw TLSSetupError(
                .invalidCertificate, "the certificate file \(certificatePath) holds no valid PEM certificate",
                cause: error)
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(
                .invalidCertificate, "the certificate file \(certificatePath) holds no PEM certificate")
        }

        let keyBytes = try PrivateFile.read(keyPath, what: "private key file", ownerOnly: true)
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            // The cause is BoringSSL's error queue (library, function and reason codes), never key bytes.
            throw TLSSetupError(
                .invalidPrivateKey,
                "the private key file \(keyPath) holds no valid unencrypted PEM private key", cause: error)
        }

        // BoringSSL cannot match a custom key (below) to the certificate, as it does for a plain key when the
        // context is made, so the public keys are compared here, for every key type swift-crypto reads.
        let pem = String(decoding: keyBytes, as: UTF8.self)
        if let keySPKI = Self.publicKeySPKI(pem: pem), keySPKI != (try? chain[0].extractPublicKey().toSPKIBytes()) {
            throw TLSSetupError(.keyMismatch, "the private key in \(keyPath) does not belong to the certificate in \(certificatePath)")
        }
        var privateKey = NIOSSLPrivateKeySource.privateKey(key)
        if signsOffEventLoop, let offloaded = OffloadedSigningKey.make(pem: pem) {
            privateKey = .privateKey(NIOSSLPrivateKey(customPrivateKey: offloaded))
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: privateKey)
        configuration.minimumTLSVersion = minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        // NIOSSL's default list still allows static-RSA key exchange and CBC suites for TLS 1.2; set
        // whatever the minimum, so that the configuration never holds them even if the minimum is
        // lowered on the returned value.
        configuration.cipherSuiteValues = Self.tls12CipherSuites
        return configuration
    }

    /// Loads the certificate chain and key and creates the server's TLS context.
    ///
    /// - Returns: A context for `NIOSSLServerHandler`, accepting TLS 1.3 only unless ``minimumVersion``
    ///   says otherwise.
    /// - Throws: The errors of ``makeServerConfiguration()``, and ``TLSSetupError/Code/keyMismatch`` when
    ///   the private key does not belong to the certificate.
    public func makeServerContext() throws(TLSSetupError) -> NIOSSLContext {
        let configuration = try makeServerConfiguration()
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // The key already parsed above; BoringSSL refusing to install it next to the certificate
            // means it is not the certificate's key (NIOSSL reports that as `failedToLoadPrivateKey`).
            if let error = error as? NIOSSLError, error == .failedToLoadPrivateKey {
                throw TLSSetupError(
                    .keyMismatch,
                    "the private key in \(keyPath) does not belong to the certificate in \(certificatePath)",
                    cause: error)
            }
            throw TLSSetupError(
                .contextFailed,
                "could not create a TLS context from \(certificatePath) and \(keyPath)", cause: error)
        }
    }
}
