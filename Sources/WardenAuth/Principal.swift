public import Foundation
import WardenAccess
public import WardenCore
public import WardenSessions

/// Who is asking a use case to act: an account proven by an access token (HTTP), or the operator of the
/// command line (who holds the master key and the database, so every permission).
///
/// Security rules never look at the surface a request came from, only at the principal.
public struct Principal: Sendable {
    public enum Kind: Sendable {
        /// An account, with the session its access token belongs to. The account itself is read only by
        /// the use cases that need more than its id (``AccountSecurity/callerAccount(_:)``): checking a
        /// token needs no database read.
        case account(UUID, SessionService.Authenticated)
        /// The command line's operator.
        case `operator`
    }

    public let kind: Kind
    /// Who, from where, which request: what the audit log records.
    public let context: AuditContext
    /// The caller's live sessions, when the token check fetched them in its round trip (the route asked).
    public var prefetchedSessions: [SessionRecord]?

    public init(kind: Kind, context: AuditContext) {
        self.kind = kind
        self.context = context
    }

    /// The command line's operator, recorded in the audit log as `actor` (e.g. `cli:alice`).
    public static func `operator`(actor: String) -> Principal {
        Principal(kind: .operator, context: AuditContext(actor: actor))
    }

    /// The calling account's id, for an account principal.
    public var accountID: UUID? {
        if case .account(let id, _) = kind { return id }
        return nil
    }

    /// The caller's session, for an account principal.
    public var session: SessionService.Authenticated? {
        if case .account(_, let session) = kind { return session }
        return nil
    }
}
