/// The trace id of a W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/), read
/// only to correlate log lines with the caller's trace.
///
/// The header is `00-<trace id: 32 hex>-<parent id: 16 hex>-<flags: 2 hex>`, lowercase. Anything else —
/// another version, upper case, a trace id or parent id of all zeros, extra text, a repeated header — yields
/// no trace id: a line then carries none rather than a value the caller made up in some other shape.
enum TraceParent {
    /// The trace id, or `nil` unless exactly one header came and it is valid.
    static func traceID(_ values: [String]) -> String? {
        guard values.count == 1 else { return nil }
        return traceID(values[0])
    }

    static func traceID(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        guard bytes.count == 55, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash else { return nil }
        let version = bytes[0..<2]
        let trace = bytes[3..<35]
        let parent = bytes[36..<52]
        let flags = bytes[53..<55]
        guard version.elementsEqual("00".utf8) else { return nil }
        for part in [trace, parent, flags] where !part.allSatisfy(isLowercaseHex) { return nil }
        guard trace.contains(where: { $0 != zero }), parent.contains(where: { $0 != zero }) else { return nil }
        return String(decoding: trace, as: UTF8.self)
    }

    private static let dash = UInt8(ascii: "-")
    private static let zero = UInt8(ascii: "0")

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
