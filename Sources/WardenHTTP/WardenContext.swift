public import Hummingbird
import NIOCore
public import WardenCore
public import WardenAuth
import WardenSessions
import Foundation

/// Per-request state: the request id, the client's address (from `X-Forwarded-For` only behind a trusted
/// proxy), and — once authenticated — the caller.
public struct WardenContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer, as seen by this server.
    public let peerAddress: String?
    public var requestID: String
    /// The client's address: the peer, or the first untrusted address in `X-Forwarded-For` when the
    /// peer is a trusted proxy.
    public var clientAddress: String
    public var caller: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
        requestID = SessionID.make().prefix(22).description
        clientAddress = peerAddress ?? "unknown"
    }

    /// Bodies are read by the routes themselves, with the configured limit.
    public var maxUploadSize: Int { 1 << 20 }

    /// The audit context of this request: who, from where, which request.
    public var audit: AuditContext {
        AuditContext(actor: caller?.context.actor ?? "anonymous", sourceAddress: clientAddress, requestID: requestID)
    }
}
