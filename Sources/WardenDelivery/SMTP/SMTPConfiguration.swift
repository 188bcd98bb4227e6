/// Where and how ``SMTPSender`` delivers mail.
///
/// ```swift
/// let configuration = SMTPConfiguration(
///     host: "smtp.example.com", username: "warden", password: smtpPassword)   // STARTTLS on 587
/// ```
///
/// - Important: TLS is required unless ``Security-swift.enum/none`` is chosen, and `.none` is accepted
///   only for a loopback host (a local relay or a test server). Certificates are always verified
///   against the system's roots plus ``additionalTrustedCertificatesPEM``, and always checked against
///   `host`. Credentials are never sent without TLS, except to a loopback host.
public struct SMTPConfiguration: Sendable {
    /// How the connection is protected.
    public enum Security: Sendable, Hashable {
        /// Plaintext, then STARTTLS (RFC 3207) before anything else; a server that does not offer it is
        /// an error. Port 587 by default.
        case startTLS
        /// TLS from the first byte (RFC 8314), port 465 by default.
        case implicitTLS
        /// No TLS at all: only for a loopback host. Port 25 by default.
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// Set both or neither. With them the sender authenticates with AUTH PLAIN, or AUTH LOGIN when the
    /// server offers only that.
    public var username: String?
    public var password: String?
    /// The name the client gives in EHLO.
    public var heloName: String
    public var connectTimeout: Duration
    /// How long to wait for each reply (and for the TLS handshake).
    public var commandTimeout: Duration
    /// CA certificates in PEM, trusted in addition to the system's roots: for a private CA, or a
    /// throwaway CA in tests. Each string may hold several certificates.
    public var additionalTrustedCertificatesPEM: [String]

    /// - Parameters:
    ///   - port: Defaults to 587 for `.startTLS`, 465 for `.implicitTLS`, 25 for `.none`.
    public init(
        host: String, port: Int? = nil, security: Security = .startTLS, username: String? = nil,
        password: String? = nil, heloName: String = "localhost", connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration = .seconds(30), additionalTrustedCertificatesPEM: [String] = []
    ) {
        self.host = host
        self.security = security
        self.port =
            port
            ?? {
                switch security {
                case .startTLS: 587
                case .implicitTLS: 465
                case .none: 25
                }
            }()
        self.username = username
        self.password = password
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.additionalTrustedCertificatesPEM = additionalTrustedCertificatesPEM
    }

    /// `host:port`, for messages.
    var serverName: String {
        HostAddress.isIPAddress(host) && host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Checks everything that can be checked without connecting.
    ///
    /// - Throws: ``DeliveryError/Code/misconfigured``, with a message that names the setting.
    func validate() throws(DeliveryError) {
        guard HostAddress.isWellFormed(host) else {
            throw DeliveryError(.misconfigured, "SMTP host is empty or not a valid host name")
        }
        guard (1...65535).contains(port) else {
            throw DeliveryError(.misconfigured, "SMTP port \(port) is out of range")
        }
        if security == .none && !HostAddress.isLoopback(host) {
            throw DeliveryError(.misconfigured, "SMTP without TLS is allowed only to a loopback host, not \(host)")
        }
        guard heloName.utf8.count <= 255, !heloName.isEmpty,
            heloName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw DeliveryError(.misconfigured, "SMTP HELO name must be a host name or an address literal")
        }
        switch (username, password) {
        case (nil, nil): break
        case (let username?, let password?):
            guard !username.isEmpty, !username.utf8.contains(0), !password.utf8.contains(0) else {
                throw DeliveryError(.misconfigured, "SMTP username is empty, or the username or password contains NUL")
            }
        default:
            throw DeliveryError(.misconfigured, "SMTP username and password must be set together")
        }
        guard connectTimeout > .zero, commandTimeout > .zero else {
            throw DeliveryError(.misconfigured, "SMTP timeouts must be positive")
        }
    }
}

extension SMTPConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Host, port, security and user; never the password.
    public var description: String {
        "SMTPConfiguration(\(serverName), \(security), user: \(username ?? "none"), password: \(password == nil ? "none" : "redacted"))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and debuggers from printing the password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "security": security, "username": username as Any,
                "password": password == nil ? "none" : "redacted", "heloName": heloName,
                "connectTimeout": connectTimeout, "commandTimeout": commandTimeout,
                "additionalTrustedCertificatesPEM": additionalTrustedCertificatesPEM.count,
            ])
    }
}
