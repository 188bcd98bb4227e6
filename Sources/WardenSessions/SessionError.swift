public import WardenCore

/// An error from sessions and tokens. Messages never contain a token, a session id or a key.
public struct SessionError: Error, Sendable, CustomStringConvertible, Equatable {
    public typealias Code = ErrorCode<SessionError>

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static let invalidToken = SessionError(.invalidToken, "the token is not valid")
}

extension ErrorCode where Domain == SessionError {
    /// The token is not valid: bad signature, wrong claims, expired, revoked, or its session is gone.
    /// Deliberately one code.
    public static var invalidToken: Self { Self("session.invalid_token") }
    /// A refresh token was presented a second time; its whole session has been revoked.
    public static var refreshTokenReused: Self { Self("session.refresh_reused") }
    /// The account has as many sessions as allowed and the policy is to refuse new ones.
    public static var limitReached: Self { Self("session.limit_reached") }
    /// The session store (Redis, the database) cannot be reached: fail closed (HTTP 503).
    public static var unavailable: Self { Self("session.unavailable") }
    /// The session store's server is an instance the revocation ledger has not been replayed into
    /// (it restarted, perhaps from an older snapshot): its answers are not trusted until the replay.
    public static var notReplayed: Self { Self("session.not_replayed") }
    public static var notFound: Self { Self("session.not_found") }
}
