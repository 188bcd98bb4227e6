import Foundation
public import NIOCore
public import WardenSessions

/// A value that writes its own JSON into the response (``JSONWriter`` calls it), for bodies on hot paths:
/// no dictionary of existentials is built for it.
protocol JSONWritable {
    func writeJSON(into buffer: inout ByteBuffer)
}

/// A session as `GET /auth/sessions` (and the administrators' listing) shows it: Warden's fields, and the
/// original system's names for the same facts — `session_id`, `is_current`, `device_info` (its
/// `token_count` is not kept; see docs/migration-api.md).
///
/// Written straight into the buffer: the listing is the hottest authenticated read, and the original's
/// names would otherwise double the cost of building its body.
struct SessionJSON: JSONWritable {
    let session: SessionRecord
    let isCurrent: Bool

    init(_ session: SessionRecord, current: String?) {
        self.session = session
        isCurrent = session.idHash == current
    }

    func writeJSON(into buffer: inout ByteBuffer) {
        let device = session.device
        let userAgent = Self.prefix(device.userAgent, scalars: 100)
        // The names and punctuation below are 248 bytes and the three timestamps 60; the strings are
        // counted at their most (every byte escaped).
        let bound =
            512 + 2 * JSONOutput.bound(session.idHash) + JSONOutput.bound(session.level.rawValue) + JSONOutput.bound(device.userAgent)
            + JSONOutput.bound(userAgent) + 2 * JSONOutput.bound(device.address) + 2 * JSONOutput.bound(device.fingerprint)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { bytes in
            var out = JSONOutput(bytes)
            out.raw("{\"id\":")
            out.string(session.idHash)
            out.raw(",\"created_at\":\"")
            out.timestamp(session.created)
            out.raw("\",\"last_activity\":\"")
            out.timestamp(session.lastActivity)
            out.raw("\",\"expires_at\":\"")
            out.timestamp(session.absoluteExpiry)
            out.raw("\",\"authentication_level\":")
            out.string(session.level.rawValue)
            out.raw(",\"device\":{\"user_agent\":")
            out.string(device.userAgent)
            out.raw(",\"address\":")
            out.string(device.address)
            out.raw(",\"fingerprint\":")
            out.string(device.fingerprint)
            out.raw(isCurrent ? "},\"current\":true" : "},\"current\":false")
            out.raw(",\"session_id\":")
            out.string(session.idHash)
            out.raw(isCurrent ? ",\"is_current\":true" : ",\"is_current\":false")
            out.raw(",\"device_info\":{\"user_agent\":")
            out.string(userAgent)
            out.raw(",\"ip_address\":")
            out.string(device.address)
            out.raw(",\"device_fingerprint\":")
            out.string(device.fingerprint)
            out.raw("}}")
            return out.count
        }
    }

    /// The first `scalars` Unicode scalars of `text` (the original cut user agents to 100 characters);
    /// `text` itself, uncopied, when it is no longer.
    static func prefix(_ text: String, scalars: Int) -> String {
        if text.utf8.count <= scalars { return text }
        let view = text.unicodeScalars
        guard let end = view.index(view.startIndex, offsetBy: scalars, limitedBy: view.endIndex) else { return text }
        return String(text[..<end])
    }
}

/// The body of `GET /auth/sessions`: `{"sessions": [...], "total_sessions": n}`, written without a
/// dictionary of existentials.
struct SessionListingJSON: JSONWritable {
    let sessions: [SessionRecord]
    let current: String?

    func writeJSON(into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 64 + 900 * sessions.count)
        buffer.writeStaticString("{\"sessions\":[")
        for (index, session) in sessions.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            SessionJSON(session, current: current).writeJSON(into: &buffer)
        }
        buffer.writeStaticString("],\"total_sessions\":")
        buffer.writeString(String(sessions.count))
        buffer.writeInteger(UInt8(ascii: "}"))
    }
}

extension WardenAPI {
    /// The body of `GET /auth/sessions` for `sessions`, as the route writes it: for `warden-bench`, which
    /// measures it against Foundation's way (the comparison lives in the benchmark, not here).
    @_spi(Benchmarks)
    public static func sessionListingBody(_ sessions: [SessionRecord], current: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        SessionListingJSON(sessions: sessions, current: current).writeJSON(into: &buffer)
        return buffer
    }
}
