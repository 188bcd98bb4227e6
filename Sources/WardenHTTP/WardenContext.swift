import Foundation
public import Hummingbird
import Logging
import NIOCore
import Synchronization
public import WardenAuth
public import WardenCore
import WardenSessions

/// Per-request state: the request id, the caller's trace id, the client's address (from `X-Forwarded-For`
/// only behind a trusted proxy), and — once authenticated — the caller.
public struct WardenContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer, as seen by this server.
    public let peerAddress: String?
    public var requestID: String
    /// The trace id of the caller's valid W3C `traceparent` header (set by the middleware), for log lines.
    public var traceID: String?
    /// The client's address: the peer, or the first untrusted address in `X-Forwarded-For` when the
    /// peer is a trusted proxy.
    public var clientAddress: String
    public var caller: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
        requestID = RequestID.next()
        clientAddress = peerAddress ?? "unknown"
        // Lines logged through the request's logger carry Warden's request id, the one in `X-Request-ID`
        // and in error bodies, in place of Hummingbird's own (which would be a second id for one request).
        logger[metadataKey: "hb.request.id"] = nil
        logger[metadataKey: "request_id"] = .string(requestID)
    }

    /// The request id. Hummingbird's own `id` reads the logger's `hb.request.id`, removed above; this one
    /// answers for a `WardenContext` (Hummingbird's generic code never asks for it).
    public var id: String { requestID }

    /// Bodies are read by the routes themselves, with the configured limit.
    public var maxUploadSize: Int { 1 << 20 }

    /// The audit context of this request: who, from where, which request.
    public var audit: AuditContext {
        AuditContext(actor: caller?.context.actor ?? "anonymous", sourceAddress: clientAddress, requestID: requestID)
    }
}

/// Request ids: unique, not secret. Ten random characters chosen at start (so two processes differ) and a
/// twelve-character counter, base64url — 22 characters as before, without a call to the system's random
/// source on every request.
enum RequestID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let prefix: [UInt8] = (0..<10).map { _ in alphabet[Int.random(in: 0..<64)] }
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        var value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return String(unsafeUninitializedCapacity: 22) { buffer in
            for index in 0..<10 { buffer[index] = prefix[index] }
            for index in stride(from: 21, through: 10, by: -1) {
                buffer[index] = alphabet[Int(value & 63)]
                value >>= 6
            }
            return 22
        }
    }
}
