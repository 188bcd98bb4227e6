public import WardenCore

/// An error from the Redis client. Messages never contain passwords, keys or values.
public struct RedisError: Error, Sendable, CustomStringConvertible, Equatable {
    public typealias Code = ErrorCode<RedisError>

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

extension ErrorCode where Domain == RedisError {
    /// Redis cannot be reached, the connection was lost, or a command timed out. Callers fail closed.
    public static var unavailable: Self { Self("redis.unavailable") }
    /// Redis answered with an error reply.
    public static var server: Self { Self("redis.server") }
    /// Redis sent something that is not valid RESP.
    public static var protocolViolation: Self { Self("redis.protocol") }
    /// The URL or configuration is wrong.
    public static var invalidConfiguration: Self { Self("redis.invalid_configuration") }
}
