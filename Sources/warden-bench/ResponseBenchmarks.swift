import Foundation
import NIOCore
@_spi(Benchmarks) import WardenHTTP
import WardenSessions

/// The session listing's response body, for `warden-bench`: as the route writes it, and as Foundation's
/// `JSONSerialization` with Foundation's date formatting wrote it before (for comparison).
enum ResponseBenchmarks {
    static func sessionListing(_ sessions: [SessionRecord], current: String) -> ByteBuffer {
        WardenAPI.sessionListingBody(sessions, current: current)
    }

    static func sessionListingWithFoundation(_ sessions: [SessionRecord], current: String) -> ByteBuffer {
        let style = Date.ISO8601FormatStyle()
        let object: [String: Any] = [
            "sessions": sessions.map { session -> [String: Any] in
                [
                    "id": session.idHash, "created_at": session.created.formatted(style), "last_activity": session.lastActivity.formatted(style),
                    "expires_at": session.absoluteExpiry.formatted(style), "authentication_level": session.level.rawValue,
                    "device": ["user_agent": session.device.userAgent, "address": session.device.address, "fingerprint": session.device.fingerprint],
                    "current": session.idHash == current,
                ]
            }
        ]
        // Force-try: the object holds only strings, booleans and containers of them.
        return ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
    }
}
