import Foundation

/// Where and how to connect to Redis.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// `rediss://`: TLS with certificate and host-name verification.
    public var useTLS: Bool
    public var connectTimeout: Duration = .seconds(2)
    public var commandTimeout: Duration = .seconds(2)
    /// Connections in the pool (default 8). Requests are multiplexed: each connection carries many at
    /// once, so a handful serves any number of concurrent callers.
    public var maximumConnections = 8
    /// How long a caller waits for a connection being opened (a burst at start) before failing.
    public var leaseTimeout: Duration = .seconds(2)
    /// After a failed connection attempt, wait this long before the next (doubling up to `maximumBackoff`);
    /// calls in between fail at once instead of piling up.
    public var initialBackoff: Duration = .milliseconds(100)
    public var maximumBackoff: Duration = .seconds(5)
    /// Bounds on each reply (bulk length, bytes buffered, values, depth). A reply over them fails every
    /// command waiting on the connection with ``RedisError/Code/protocolViolation`` and closes it, so a
    /// hostile or broken server cannot make the client buffer without bound.
    public var replyLimits = RESPParser.Limits()
    /// A Redis Cluster's seed nodes (`host:port`), from `redis+cluster://`; empty for one server. The
    /// client learns the rest of the cluster from them.
    public var clusterSeeds: [String] = []

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0, useTLS: Bool = false) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.useTLS = useTLS
    }

    /// Parses `redis://[user[:password]@]host[:port][/database]` or `rediss://…` (TLS).
    ///
    /// - Throws: ``RedisError/Code/invalidConfiguration``; the message never repeats the URL (it may hold
    ///   a password).
    public init(url: String) throws(RedisError) {
        let lowered = url.lowercased()
        if lowered.hasPrefix("redis+cluster://") || lowered.hasPrefix("rediss+cluster://") {
            self = try Self.cluster(url: url)
            return
        }
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "redis" || scheme == "rediss",
            let host = components.host, !host.isEmpty
        else {
            throw RedisError(.invalidConfiguration, "the Redis URL must look like redis://[user:password@]host[:port][/database]")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database: Int
        if path.isEmpty {
            database = 0
        } else {
            guard let number = Int(path), number >= 0 else {
                throw RedisError(.invalidConfiguration, "the Redis URL's database must be a number")
            }
            database = number
        }
        self.init(
            host: host, port: components.port ?? 6379,
            username: components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
            password: components.password?.removingPercentEncoding,
            database: database, useTLS: scheme == "rediss")
    }

    /// `redis+cluster://[user[:password]@]host:port[,host:port…]` (or `rediss+cluster://` for TLS): a
    /// Redis Cluster reached through any of the listed nodes. Clusters have one database, 0.
    private static func cluster(url: String) throws(RedisError) -> RedisConfiguration {
        let invalid = RedisError(.invalidConfiguration, "a Redis Cluster URL must look like redis+cluster://[user:password@]host:port[,host:port…]")
        guard let schemeEnd = url.range(of: "://") else { throw invalid }
        let useTLS = url[..<schemeEnd.lowerBound].lowercased() == "rediss+cluster"
        var rest = url[schemeEnd.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            guard rest[end...].allSatisfy({ $0 == "/" }) else { throw invalid }
            rest = rest[..<end]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = user.firstIndex(of: ":") {
                username = String(user[..<colon]).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
                password = String(user[user.index(after: colon)...]).removingPercentEncoding
            } else {
                username = String(user).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
            }
        }
        let seeds = rest.split(separator: ",").map(String.init)
        guard !seeds.isEmpty else { throw invalid }
        for seed in seeds {
            let (host, port) = RedisCluster.split(seed)
            guard !host.isEmpty, let port, (1...65_535).contains(port) else { throw invalid }
        }
        let first = RedisCluster.split(seeds[0])
        var configuration = RedisConfiguration(host: first.host, port: first.port ?? 6379, username: username, password: password, database: 0, useTLS: useTLS)
        configuration.clusterSeeds = seeds
        return configuration
    }
}
