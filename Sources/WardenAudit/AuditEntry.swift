public import WardenCore

/// One link of the audit chain: an event with its sequence number, the previous entry's hash, its own
/// hash, and a MAC over that hash.
public struct AuditEntry: Sendable, Hashable {
    /// 1, 2, 3, … with no gaps.
    public let sequence: Int64
    public let event: AuditEvent
    /// The previous entry's hash (32 zero bytes for the first entry).
    public let previousHash: [UInt8]
    /// SHA-256 over a label, `previousHash` and the canonical encoding of `sequence` and `event`.
    public let hash: [UInt8]
    /// HMAC-SHA256 of `hash` under the audit key.
    public let mac: [UInt8]

    public init(sequence: Int64, event: AuditEvent, previousHash: [UInt8], hash: [UInt8], mac: [UInt8]) {
        self.sequence = sequence
        self.event = event
        self.previousHash = previousHash
        self.hash = hash
        self.mac = mac
    }
}

/// The end of the chain: the last entry's sequence number and hash, authenticated on their own so that
/// removing entries from the end is detected too.
public struct AuditHead: Sendable, Hashable {
    public let sequence: Int64
    public let hash: [UInt8]
    public let mac: [UInt8]

    public init(sequence: Int64, hash: [UInt8], mac: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
        self.mac = mac
    }
}
