public import Foundation
import SQLKit
public import WardenCore
public import WardenMFA

extension SQLStore: MFAStore {
    public func mfaState(accountID: UUID) async throws -> MFAState? {
        try await onConnection(.mfa) { database in
            try await database.raw("SELECT document FROM warden_mfa WHERE account_id = \(bind: Self.key(accountID))").first()
                .map { try Self.decodeMFA(try $0.string("document")) }
        }
    }

    public func updateMFA<Result: Sendable>(
        accountID: UUID, _ change: @escaping @Sendable (inout MFAState) throws -> MFAUpdate<Result>
    ) async throws -> Result {
        let key = Self.key(accountID)
        return try await inTransaction(.mfa) { [self] database in
            try await WriterLock.mfa(of: key, on: database, kind: backend.kind)
            let row = try await database.raw("SELECT document FROM warden_mfa WHERE account_id = \(bind: key)\(unsafeRaw: backend.kind.forUpdate)").first()
            var state = try row.map { try Self.decodeMFA(try $0.string("document")) } ?? MFAState()
            let original = state
            let update = try change(&state)
            if state != original {
                let document = try Self.encodeMFA(state)
                let now = Date().milliseconds
                if row == nil {
                    try await database.raw("INSERT INTO warden_mfa (account_id, document, updated_at) VALUES (\(bind: key), \(bind: document), \(bind: now))").run()
                } else {
                    try await database.raw("UPDATE warden_mfa SET document = \(bind: document), updated_at = \(bind: now) WHERE account_id = \(bind: key)").run()
                }
            }
            try await appendAudit(update.audit, on: database)
            return update.result
        }
    }

    static func encodeMFA(_ state: MFAState) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    static func decodeMFA(_ text: String) throws -> MFAState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        do {
            return try decoder.decode(MFAState.self, from: Data(text.utf8))
        } catch {
            throw SQLStoreError(.corrupt, "an MFA record cannot be read")
        }
    }
}

extension SQLStore: RateLimitStore {
    public func hit(key: String, window: TimeInterval, now: Date, count events: Int) async throws -> (count: Int, resets: Date) {
        let start = now.milliseconds
        let end = now.addingTimeInterval(window).milliseconds
        // One statement, atomic on both databases: a new window when the old one has ended, else `events` more.
        let row = try await onConnection(.rateLimit) { database in
            try await database.raw(
                """
                INSERT INTO warden_rate_limits (key, window_start, window_end, count) VALUES (\(bind: key), \(bind: start), \(bind: end), \(bind: events))
                ON CONFLICT (key) DO UPDATE SET
                  count = CASE WHEN warden_rate_limits.window_end <= \(bind: start) THEN \(bind: events) ELSE warden_rate_limits.count + \(bind: events) END,
                  window_start = CASE WHEN warden_rate_limits.window_end <= \(bind: start) THEN \(bind: start) ELSE warden_rate_limits.window_start END,
                  window_end = CASE WHEN warden_rate_limits.window_end <= \(bind: start) THEN \(bind: end) ELSE warden_rate_limits.window_end END
                RETURNING count, window_end
                """
            ).first()
        }
        guard let row else { throw SQLStoreError(.corrupt, "the rate-limit counter did not answer") }
        return (Int(try row.int("count")), try row.date("window_end"))
    }

    /// Deletes counters whose window has ended (run now and then).
    public func pruneRateLimits(now: Date) async throws {
        try await onConnection(.rateLimit) { database in
            try await database.raw("DELETE FROM warden_rate_limits WHERE window_end <= \(bind: now.milliseconds)").run()
        }
    }
}
