import Foundation
import SQLKit
public import WardenAudit
public import WardenCore

extension SQLStore: AuditAppender, AuditLogReader {
    public func append(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await inTransaction(.audit) { [self] database in
            try await appendAudit(events, on: database)
        }
    }

    /// Appends `events` inside the caller's transaction: the chain head is locked, the entries and the
    /// new head written. Any failure aborts the caller's transaction.
    func appendAudit(_ events: [AuditEvent], on database: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        try await WriterLock.audit.acquire(on: database, kind: backend.kind)
        let head = try await readHead(database, lock: true)
        let (entries, newHead) = chain.append(events, after: head)
        for entry in entries {
            let event = entry.event
            try await database.raw(
                """
                INSERT INTO warden_audit (seq, at_ms, action, outcome, actor, subject, source_address, request_id, details, previous_hash, hash, mac) \
                VALUES (\(bind: entry.sequence), \(bind: event.timeMilliseconds), \(bind: event.action), \(bind: event.outcome.rawValue), \
                \(bind: event.actor), \(bind: event.subject), \(bind: event.sourceAddress), \(bind: event.requestID), \
                \(bind: Self.encodeDetails(event.details)), \(bind: Self.hex(entry.previousHash)), \(bind: Self.hex(entry.hash)), \(bind: Self.hex(entry.mac)))
                """
            ).run()
        }
        guard let newHead else { return }
        if head == nil {
            try await database.raw(
                """
                INSERT INTO warden_audit_head (id, seq, hash, mac) VALUES (1, \(bind: newHead.sequence), \(bind: Self.hex(newHead.hash)), \(bind: Self.hex(newHead.mac)))
                """
            ).run()
        } else {
            try await database.raw(
                """
                UPDATE warden_audit_head SET seq = \(bind: newHead.sequence), hash = \(bind: Self.hex(newHead.hash)), mac = \(bind: Self.hex(newHead.mac)) WHERE id = 1
                """
            ).run()
        }
    }

    public func head() async throws -> AuditHead? {
        try await onConnection(.audit) { [self] database in try await readHead(database, lock: false) }
    }

    public func entries(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await onConnection(.audit) { database in
            try await database.raw("SELECT * FROM warden_audit WHERE seq > \(bind: sequence) ORDER BY seq LIMIT \(bind: Int64(limit))")
                .all().map(Self.entry)
        }
    }

    public func latest(limit: Int) async throws -> [AuditEntry] {
        try await onConnection(.audit) { database in
            try await database.raw("SELECT * FROM warden_audit ORDER BY seq DESC LIMIT \(bind: Int64(limit))")
                .all().map(Self.entry).reversed()
        }
    }

    private func readHead(_ database: any SQLDatabase, lock: Bool) async throws -> AuditHead? {
        let suffix = lock ? backend.kind.forUpdate : ""
        guard let row = try await database.raw("SELECT seq, hash, mac FROM warden_audit_head WHERE id = 1\(unsafeRaw: suffix)").first() else {
            return nil
        }
        return AuditHead(sequence: try row.int("seq"), hash: try Self.bytes(row.string("hash")), mac: try Self.bytes(row.string("mac")))
    }

    static func entry(_ row: any SQLRow) throws -> AuditEntry {
        let event = AuditEvent(
            time: try row.date("at_ms"), action: try row.string("action"),
            outcome: AuditEvent.Outcome(rawValue: try row.string("outcome")) ?? .failure,
            actor: try row.string("actor"), subject: try row.optionalString("subject"),
            sourceAddress: try row.optionalString("source_address"), requestID: try row.optionalString("request_id"),
            details: try decodeDetails(row.string("details")))
        return AuditEntry(
            sequence: try row.int("seq"), event: event, previousHash: try bytes(row.string("previous_hash")),
            hash: try bytes(row.string("hash")), mac: try bytes(row.string("mac")))
    }

    static func encodeDetails(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Force-try: a string dictionary always encodes.
        return String(decoding: try! encoder.encode(details), as: UTF8.self)
    }

    static func decodeDetails(_ text: String) throws -> [String: String] {
        // An unreadable value is reported as such; the verifier then finds the hash mismatch.
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? ["unreadable": text]
    }

    static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }

    static func bytes(_ hex: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), let byte = UInt8(hex[index..<next], radix: 16) else {
                // A mangled hash is returned as empty bytes: it can never match, so verification reports it.
                return []
            }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
