import Foundation
public import WardenAuth
public import WardenCore

/// How `warden serve` listens and what it lets through. Every field has a secure default; see
/// docs/configuration.md for the matching flags and environment variables.
public struct ServerConfiguration: Sendable {
    /// Who may create accounts through `POST /auth/register`.
    public enum Registration: String, Sendable, CaseIterable {
        /// Anyone.
        case open
        /// Anyone holding one of the configured invite codes.
        case invite
        /// Only a caller with `accounts:create` (default).
        case admin
    }

    /// Which API shapes answer where Warden's and the original system's conflict (docs/migration-api.md).
    /// Shapes that do not conflict (the original's field names next to Warden's, its request fields where
    /// unambiguous) are answered in both.
    public enum APICompatibility: String, Sendable, CaseIterable {
        /// Warden's documented shapes (default).
        case warden
        /// The original's where they conflict: errors as `{"error":"<message>"}`, an MFA-required login as
        /// 403 `{"error":"MFA verification required","mfa_required":true,"available_methods":[…]}`, and
        /// logout and session revocation as 200 with `{message, …}` instead of 204.
        case original
    }

    public var host = "127.0.0.1"
    public var port = 8443
    /// Whether the server terminates TLS (drives HSTS and `/security/status`).
    public var tls = true
    /// The `Strict-Transport-Security` value sent over TLS (`TLSSettings.strictTransportSecurity`'s
    /// header: one year, no subdomains, by default); `nil` sends none.
    public var strictTransportSecurity: String? = "max-age=31536000"
    public var tlsMinimumVersion = "TLSv1.3"
    /// Peers whose `X-Forwarded-For` is believed (exact addresses or CIDR blocks, IPv4 or IPv6).
    public var trustedProxies: [String] = []
    /// Origins allowed to call the API from a browser (exact `scheme://host[:port]`); none by default.
    public var corsOrigins: [String] = []
    public var registration = Registration.admin
    /// `WARDEN_API_COMPATIBILITY`: Warden's shapes, or the original system's where they conflict.
    public var apiCompatibility = APICompatibility.warden
    public var inviteCodes: [String] = []
    /// Request bodies above this are refused with 413 before being read.
    public var maxBodyBytes = 1 << 20
    /// JSON nested deeper than this is refused with 400 before being parsed.
    public var maxJSONDepth = 32
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// A request's head (request line and headers) must arrive within this of its first byte (a new
    /// connection's first one, within this of the connection opening), or the connection is closed.
    public var headerTimeout: Duration = .seconds(10)
    /// A request's body must arrive within this of its head (counting only the time the server waits for
    /// the client), or the connection is closed.
    public var bodyTimeout: Duration = .seconds(30)
    /// Once ``bodyRateGrace`` of waiting has passed, a body must have averaged at least this many bytes per
    /// second, or the connection is closed (0: no minimum).
    public var bodyMinimumRate = 1024
    public var bodyRateGrace: Duration = .seconds(5)
    /// A response's last byte must be written to the socket within this of its head: a client that stops
    /// reading loses the connection.
    public var responseTimeout: Duration = .seconds(30)
    /// At a graceful shutdown, how long readiness answers 503 before new connections are refused (so a
    /// load balancer notices first).
    public var shutdownDrain: Duration = .seconds(5)
    /// At a graceful shutdown, how long requests in flight may take to finish after the drain; requests
    /// still running then are cancelled and their connections closed.
    public var shutdownGrace: Duration = .seconds(15)
    /// Requests per client address (every route but `/health`), counted in Redis a batch at a time
    /// (``BatchedRateLimiter``: never over the limit, at most 2% under it per node).
    public var addressLimit = RateLimit(limit: 600, window: 60)
    /// Requests per client address to the login, registration, refresh and MFA routes.
    public var authAddressLimit = RateLimit(limit: 30, window: 60)
    /// Login attempts per username and source address (IPv6 sources by their /64).
    public var accountLoginLimit = RateLimit(limit: 10, window: 60)

    /// The use cases' policy from these settings.
    public var securityPolicy: AccountSecurity.Policy {
        var policy = AccountSecurity.Policy()
        policy.loginPerSource = accountLoginLimit
        return policy
    }
    /// Addresses that may read `/metrics`.
    public var metricsAddresses: [String] = ["127.0.0.1", "::1"]
    /// Field-encryption batch size.
    public var maxBatch = 100
    /// One successful request in this many gets an access-log line (every refused or failed one does);
    /// 1 logs them all (default).
    public var accessLogSampling = 1

    public init() {}

    /// The registration policy as the use cases take it.
    public var registrationRule: AccountSecurity.Registration {
        switch registration {
        case .open: .open
        case .invite: .invite(inviteCodes)
        case .admin: .administrators
        }
    }

    /// Whether `address` is one of `list`: an exact address or inside a CIDR block, IPv4 or IPv6
    /// (an IPv4-mapped IPv6 address counts as its IPv4 address).
    static func contains(_ list: [String], _ address: String) -> Bool {
        list.contains { $0 == address || SourceKey.matches($0, address) }
    }
}
