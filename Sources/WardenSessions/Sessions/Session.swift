public import Foundation

/// How strongly a session's holder proved who they are.
public enum AuthenticationLevel: String, Sendable, Codable, Comparable {
    /// A password alone.
    case password
    /// A password and a second factor.
    case multiFactor = "mfa"
    /// A passkey with user verification, no password: phishing-resistant and multi-factor (the
    /// authenticator held, and the PIN or biometric that unlocked it).
    case passkey

    /// Whether more than a password was proven (a second factor, or a user-verified passkey).
    public var isMultiFactor: Bool { self != .password }

    private var rank: Int { self == .password ? 0 : self == .multiFactor ? 1 : 2 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Where a session was created from.
public struct Device: Sendable, Hashable, Codable {
    public var userAgent: String
    public var address: String
    /// A stable identifier of the device: the first 16 hex digits of SHA-256 over the user agent and, when
    /// the client sends one, its own device id. Unlike the original system's, it does not include the
    /// address, so a phone changing networks is not a "new device".
    public var fingerprint: String

    public init(userAgent: String, address: String, clientDeviceID: String? = nil) {
        self.userAgent = String(userAgent.prefix(512))
        self.address = String(address.prefix(64))
        fingerprint = Device.fingerprint(userAgent: self.userAgent, clientDeviceID: clientDeviceID)
    }

    public init(userAgent: String, address: String, fingerprint: String) {
        self.userAgent = userAgent
        self.address = address
        self.fingerprint = fingerprint
    }

    static func fingerprint(userAgent: String, clientDeviceID: String?) -> String {
        SessionID.sha256Hex(userAgent + "\u{0}" + (clientDeviceID ?? "")).prefix(16).lowercased()
    }
}

/// A session as stored. Its id is never stored, only its hash.
public struct SessionRecord: Sendable, Hashable {
    /// SHA-256 of the session id, hex.
    public let idHash: String
    public let accountID: UUID
    public var device: Device
    public internal(set) var created: Date
    public var lastActivity: Date
    /// Inactivity after which the session ends.
    public let idleTimeout: TimeInterval
    /// When the session ends whatever its activity.
    public let absoluteExpiry: Date
    public let level: AuthenticationLevel
    /// The id (`jti`) of the one refresh token that may be used next.
    public var refreshTokenID: String
    /// How many times the refresh token has rotated, as the store counts it (0 at login; stores that
    /// cannot lose data may leave it at 0). Compared with the durable ledger's count after a restore.
    public var refreshGeneration: Int64

    public init(
        idHash: String, accountID: UUID, device: Device, created: Date, lastActivity: Date, idleTimeout: TimeInterval,
        absoluteExpiry: Date, level: AuthenticationLevel, refreshTokenID: String, refreshGeneration: Int64 = 0
    ) {
        self.idHash = idHash
        self.accountID = accountID
        self.device = device
        self.created = created
        self.lastActivity = lastActivity
        self.idleTimeout = idleTimeout
        self.absoluteExpiry = absoluteExpiry
        self.level = level
        self.refreshTokenID = refreshTokenID
        self.refreshGeneration = refreshGeneration
    }

    /// When the session ends if nothing happens: the idle deadline, never past the absolute expiry.
    public var expires: Date { min(lastActivity.addingTimeInterval(idleTimeout), absoluteExpiry) }

    public func isActive(at time: Date) -> Bool { time < expires }
}
