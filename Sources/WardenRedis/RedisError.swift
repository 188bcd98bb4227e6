/// An error from the Redis client. Messages never contain passwords, keys or values.
public struct RedisError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Redis cannot be reached, the connection was lost, or a command timed out. Callers fail closed.
        public static let unavailable = Code("redis.unavailable")
        /// Redis answered with an error reply.
        public static let server = Code("redis.server")
        /// Redis sent something that is not valid RESP.
        public static let protocolViolation = Code("redis.protocol")
        /// The URL or configuration is wrong.
        public static let invalidConfiguration = Code("redis.invalid_configuration")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Whether this is a `NOSCRIPT` reply (the script cache does not hold the script).
    var isNoScript: Bool { code == .server && message.hasPrefix("NOSCRIPT") }
}
