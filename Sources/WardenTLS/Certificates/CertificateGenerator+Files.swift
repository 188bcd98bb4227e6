public import Foundation

extension CertificateGenerator {
    /// The mode of a written private key file: read and write for its owner only.
    public static let privateKeyMode: UInt32 = 0o600
    /// The mode of a written certificate file: the certificate is public.
    public static let certificateMode: UInt32 = 0o644

    /// Writes a generated certificate and its private key to two files.
    ///
    /// Missing parent directories are created with mode `0700`. Both paths are checked before anything
    /// is written, so an existing file leaves the other untouched; without `overwrite` the files are
    /// created with `O_CREAT | O_EXCL`, which also refuses to follow a symbolic link. With `overwrite`
    /// each file is written beside its destination and renamed over it.
    ///
    /// > Important: The key file is created by `open(2)` with mode `0600` and never has a broader mode,
    /// > not even for an instant, whatever the process umask; the certificate gets `0644`.
    ///
    /// - Parameters:
    ///   - generated: The certificate and key to write.
    ///   - certificatePath: Where to write the certificate PEM.
    ///   - keyPath: Where to write the private key PEM.
    ///   - overwrite: Replace existing files instead of refusing them.
    /// - Throws: ``TLSSetupError`` with ``TLSSetupError/Code/fileExists`` when a file exists and
    ///   `overwrite` is `false`, or ``TLSSetupError/Code/fileSystem`` when a directory or file cannot be
    ///   created or written. If the certificate cannot be written after the key was, the new key file is
    ///   removed again.
    public static func write(
        _ generated: GeneratedCertificate, certificatePath: String, keyPath: String, overwrite: Bool = false
    ) throws(TLSSetupError) {
        guard certificatePath != keyPath else {
            throw TLSSetupError(.fileSystem, "the certificate and the private key need two different paths")
        }
        if !overwrite {
            if PrivateFile.exists(keyPath) { throw PrivateFile.existsError("private key file", keyPath) }
            if PrivateFile.exists(certificatePath) {
                throw PrivateFile.existsError("certificate file", certificatePath)
            }
        }
        try PrivateFile.createParentDirectory(of: keyPath)
        try PrivateFile.createParentDirectory(of: certificatePath)

        let key = Array(generated.privateKeyPEM.utf8)
        let certificate = Array(generated.certificatePEM.utf8)
        if overwrite {
            try PrivateFile.replace(keyPath, bytes: key, mode: privateKeyMode, what: "private key file")
            try PrivateFile.replace(
                certificatePath, bytes: certificate, mode: certificateMode, what: "certificate file")
        } else {
            try PrivateFile.createExclusively(keyPath, bytes: key, mode: privateKeyMode, what: "private key file")
            do throws(TLSSetupError) {
                try PrivateFile.createExclusively(
                    certificatePath, bytes: certificate, mode: certificateMode, what: "certificate file")
            } catch {
                // The key was created by this call a moment ago; without its certificate it is useless.
                PrivateFile.remove(keyPath)
                throw error
            }
        }
    }

    /// The certificate and key of the embedded default, as ``ensure(directory:dnsNames:ipAddresses:now:renewalWindow:)``
    /// left them.
    public struct EnsuredPair: Sendable {
        public let certificatePath: String
        public let keyPath: String
        /// Whether this call generated the pair (first run, or renewal).
        public let generated: Bool
        /// Whether this call replaced a pair Warden generated earlier because it was expiring.
        public let renewed: Bool
        /// What an operator should hear about the certificate in use (see ``CertificateInspection/warnings(at:dnsNames:ipAddresses:window:)``).
        public let warnings: [String]
    }

    /// Returns the certificate and key of the embedded default, generating them on first run and renewing
    /// them before they expire.
    ///
    /// The files are `<directory>/tls/cert.pem` and `<directory>/tls/key.pem`. When neither exists a new
    /// self-signed certificate is generated for the given names and written with
    /// ``write(_:certificatePath:keyPath:overwrite:)``. When both exist and the certificate is one Warden
    /// generated (``CertificateInspection/generatedByWarden``) that expires within `renewalWindow` (or is
    /// not yet valid), a new pair replaces it. Any other certificate an operator put there is never
    /// replaced; problems with it (expired, expiring, names missing) come back as warnings.
    ///
    /// > Important: An existing key file that group or other users can access is refused rather than
    /// > used or silently tightened: someone may already have read it.
    ///
    /// - Parameters:
    ///   - directory: Warden's data directory; the `tls` directory inside it is created with mode `0700`.
    ///   - dnsNames: DNS names for a generated certificate, and the names a kept one should carry.
    ///   - ipAddresses: IP addresses for a generated certificate, and those a kept one should carry.
    ///   - now: The current time.
    ///   - renewalWindow: How long before expiry a generated certificate is renewed (30 days).
    /// - Throws: ``TLSSetupError`` with ``TLSSetupError/Code/insecurePermissions`` for an existing key file
    ///   with a mode broader than `0600`, ``TLSSetupError/Code/incompletePair`` when only one of the files
    ///   exists, ``TLSSetupError/Code/invalidCertificate`` when the existing certificate cannot be parsed,
    ///   and the errors of ``selfSigned(commonName:dnsNames:ipAddresses:validity:now:keyType:)`` and
    ///   ``write(_:certificatePath:keyPath:overwrite:)``.
    public static func ensure(
        directory: String, dnsNames: [String], ipAddresses: [String], now: Date = Date(),
        renewalWindow: TimeInterval = 30 * 86_400
    ) throws(TLSSetupError) -> EnsuredPair {
        let tlsDirectory = directory.hasSuffix("/") ? directory + "tls" : directory + "/tls"
        let certificatePath = tlsDirectory + "/cert.pem"
        let keyPath = tlsDirectory + "/key.pem"

        switch (PrivateFile.exists(certificatePath), PrivateFile.exists(keyPath)) {
        case (true, true):
            try PrivateFile.requireOwnerOnly(keyPath, what: "private key file")
            let inspection = try CertificateInspection.read(certificatePath: certificatePath)
            if inspection.generatedByWarden, inspection.needsRenewal(at: now, window: renewalWindow) {
                let generated = try selfSigned(dnsNames: dnsNames, ipAddresses: ipAddresses, now: now)
                try write(generated, certificatePath: certificatePath, keyPath: keyPath, overwrite: true)
                return EnsuredPair(certificatePath: certificatePath, keyPath: keyPath, generated: true, renewed: true, warnings: [])
            }
            return EnsuredPair(
                certificatePath: certificatePath, keyPath: keyPath, generated: false, renewed: false,
                warnings: inspection.warnings(at: now, dnsNames: dnsNames, ipAddresses: ipAddresses, window: renewalWindow))
        case (true, false):
            throw TLSSetupError(
                .incompletePair,
                "found the certificate \(certificatePath) but not its private key \(keyPath); restore the key, "
                    + "or remove the certificate to have a new pair generated")
        case (false, true):
            throw TLSSetupError(
                .incompletePair,
                "found the private key \(keyPath) but not its certificate \(certificatePath); restore the "
                    + "certificate, or remove the key to have a new pair generated")
        case (false, false):
            try PrivateFile.createPrivateDirectory(tlsDirectory)
            let generated = try selfSigned(dnsNames: dnsNames, ipAddresses: ipAddresses, now: now)
            try write(generated, certificatePath: certificatePath, keyPath: keyPath)
            return EnsuredPair(certificatePath: certificatePath, keyPath: keyPath, generated: true, renewed: false, warnings: [])
        }
    }
}
