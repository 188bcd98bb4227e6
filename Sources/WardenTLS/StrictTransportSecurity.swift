/// An HTTP Strict Transport Security policy (RFC 6797): the `Strict-Transport-Security` response header
/// that tells browsers to reach this host over HTTPS only.
///
/// The HTTP layer sends ``headerValue`` on every response served over TLS, and only there: browsers
/// ignore the header on plain HTTP, and sending it from a server that also answers in plain text would
/// only mislead whoever reads the configuration.
///
/// > Important: A browser remembers the policy for ``maxAge`` seconds. Switching TLS off afterwards
/// > makes the service unreachable from browsers that saw the header until that time has passed (or the
/// > server sends `max-age=0` over HTTPS). ``includeSubdomains`` extends that to every subdomain.
public struct StrictTransportSecurity: Sendable, Hashable {
    /// The response header's name.
    public static let headerName = "Strict-Transport-Security"

    /// How long, in seconds, browsers keep the policy. One year by default.
    public var maxAge: Int
    /// Whether the policy covers every subdomain of the host as well.
    public var includeSubdomains: Bool

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - maxAge: Seconds browsers keep the policy; negative values are treated as `0`, which clears it.
    ///   - includeSubdomains: Whether subdomains are covered too; off by default, because a self-signed
    ///     or single-host certificate says nothing about other hosts under the same domain.
    public init(maxAge: Int = 31_536_000, includeSubdomains: Bool = false) {
        self.maxAge = max(0, maxAge)
        self.includeSubdomains = includeSubdomains
    }

    /// The header value, such as `max-age=31536000` or `max-age=31536000; includeSubDomains`.
    public var headerValue: String {
        let seconds = max(0, maxAge)
        return includeSubdomains ? "max-age=\(seconds); includeSubDomains" : "max-age=\(seconds)"
    }
}
