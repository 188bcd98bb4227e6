public import WardenCore

/// A TLS setup step failed: generating a certificate, writing or reading its files, or building the
/// server context.
///
/// The message names the step, the path and the reason, and says how to fix it where there is a fix. It
/// never holds certificate or key bytes, so it is safe to log and to show an operator.
public struct TLSSetupError: Error, CustomStringConvertible {
    /// What went wrong, in a form callers can switch on. New codes may be added.
    public typealias Code = ErrorCode<TLSSetupError>

    public let code: Code
    /// A message safe to log: step, path and reason, never file contents.
    public let message: String
    /// The underlying error, when there is one. Its description may be less careful than `message`
    /// and is meant for debugging, not for users.
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}

extension ErrorCode where Domain == TLSSetupError {
    /// A common name or DNS name is empty, too long or not a valid host name.
    public static var invalidName: Self { Self("tls.invalid_name") }
    /// An entry of `ipAddresses` is not a literal IPv4 or IPv6 address.
    public static var invalidIPAddress: Self { Self("tls.invalid_ip_address") }
    /// The requested validity period is not a positive, finite number of seconds.
    public static var invalidValidity: Self { Self("tls.invalid_validity") }
    /// Generating the key or building and signing the certificate failed.
    public static var generationFailed: Self { Self("tls.generation_failed") }
    /// A file that would be written already exists and overwriting was not asked for.
    public static var fileExists: Self { Self("tls.file_exists") }
    /// Only one of the certificate and the key file exists, so the pair cannot be used or regenerated.
    public static var incompletePair: Self { Self("tls.incomplete_pair") }
    /// A private key file can be accessed by users other than its owner.
    public static var insecurePermissions: Self { Self("tls.insecure_permissions") }
    /// The operating system refused or failed a file operation.
    public static var fileSystem: Self { Self("tls.file_system") }
    /// The certificate file holds no PEM certificate that can be parsed.
    public static var invalidCertificate: Self { Self("tls.invalid_certificate") }
    /// The key file holds no unencrypted PEM private key that can be parsed.
    public static var invalidPrivateKey: Self { Self("tls.invalid_private_key") }
    /// The private key does not belong to the certificate.
    public static var keyMismatch: Self { Self("tls.key_mismatch") }
    /// The TLS library refused the configuration for another reason.
    public static var contextFailed: Self { Self("tls.context_failed") }
}
