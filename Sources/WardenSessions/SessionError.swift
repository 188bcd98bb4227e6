/// An error from sessions and tokens. Messages never contain a token, a session id or a key.
public struct SessionError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The token is not valid: bad signature, wrong claims, expired, revoked, or its session is gone.
        /// Deliberately one code.
        public static let invalidToken = Code("session.invalid_token")
        /// A refresh token was presented a second time; its whole session has been revoked.
        public static let refreshTokenReused = Code("session.refresh_reused")
        /// The account has as many sessions as allowed and the policy is to refuse new ones.
        public static let limitReached = Code("session.limit_reached")
        /// The session store (Redis, the database) cannot be reached: fail closed (HTTP 503).
        public static let unavailable = Code("session.unavailable")
        /// The session store's server is an instance the revocation ledger has not been replayed into
        /// (it restarted, perhaps from an older snapshot): its answers are not trusted until the replay.
        public static let notReplayed = Code("session.not_replayed")
        public static let notFound = Code("session.not_found")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static let invalidToken = SessionError(.invalidToken, "the token is not valid")
}
