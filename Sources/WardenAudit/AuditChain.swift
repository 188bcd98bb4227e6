public import Crypto
import Foundation
public import WardenCore

/// Builds and checks the audit chain.
///
/// - `hash(n) = SHA-256("warden/audit/entry/v1" ‖ hash(n−1) ‖ canonical(n, event))`, with 32 zero bytes
///   before the first entry;
/// - `mac(n) = HMAC-SHA256(key, hash(n))`;
/// - the head stores the last sequence number and hash with
///   `HMAC-SHA256(key, "warden/audit/head/v1" ‖ sequence ‖ hash)`.
///
/// The canonical encoding length-prefixes every string (32-bit big-endian), writes absent optionals as
/// `0xFFFFFFFF`, times as milliseconds since 1970 (64-bit), and details sorted by key. Editing any field
/// of any entry breaks its hash; reordering or removing entries breaks the links or the sequence; removing
/// entries from the end no longer matches the head; and without the key no one can forge a MAC for a
/// rewritten chain.
public struct AuditChain: Sendable {
    static let genesis = [UInt8](repeating: 0, count: 32)
    let key: SymmetricKey

    /// - Parameter key: The audit MAC key (derived from the master key, see ``MasterKey``).
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Appends `events` after `head` (nil for an empty log).
    public func append(_ events: [AuditEvent], after head: AuditHead?) -> (entries: [AuditEntry], head: AuditHead?) {
        var sequence = head?.sequence ?? 0
        var previous = head?.hash ?? Self.genesis
        var entries: [AuditEntry] = []
        for event in events {
            sequence += 1
            let hash = Self.hash(sequence: sequence, event: event, previousHash: previous)
            entries.append(AuditEntry(sequence: sequence, event: event, previousHash: previous, hash: hash, mac: mac(hash)))
            previous = hash
        }
        guard let last = entries.last else { return ([], head) }
        return (entries, makeHead(sequence: last.sequence, hash: last.hash))
    }

    /// The head for a chain ending at `sequence` with `hash`.
    public func makeHead(sequence: Int64, hash: [UInt8]) -> AuditHead {
        AuditHead(sequence: sequence, hash: hash, mac: Array(HMAC<SHA256>.authenticationCode(for: Self.headBytes(sequence, hash), using: key)))
    }

    func mac(_ hash: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: hash, using: key))
    }

    func isAuthentic(_ entry: AuditEntry) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(entry.mac, authenticating: entry.hash, using: key)
    }

    func isAuthentic(_ head: AuditHead) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(head.mac, authenticating: Self.headBytes(head.sequence, head.hash), using: key)
    }

    static func hash(sequence: Int64, event: AuditEvent, previousHash: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("warden/audit/entry/v1".utf8))
        hasher.update(data: previousHash)
        hasher.update(data: canonical(sequence: sequence, event: event))
        return Array(hasher.finalize())
    }

    static func canonical(sequence: Int64, event: AuditEvent) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        }
        func put(_ string: String?) {
            guard let string else { return put(UInt32.max) }
            let bytes = Array(string.utf8)
            put(UInt32(bytes.count))
            out.append(contentsOf: bytes)
        }
        put(sequence)
        put(event.timeMilliseconds)
        put(event.action)
        put(event.outcome.rawValue)
        put(event.actor)
        put(event.subject)
        put(event.sourceAddress)
        put(event.requestID)
        put(UInt32(event.details.count))
        for key in event.details.keys.sorted() {
            put(key)
            put(event.details[key])
        }
        return out
    }

    private static func headBytes(_ sequence: Int64, _ hash: [UInt8]) -> [UInt8] {
        var out = Array("warden/audit/head/v1".utf8)
        withUnsafeBytes(of: sequence.bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: hash)
        return out
    }
}
