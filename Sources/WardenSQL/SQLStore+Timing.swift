import SQLKit
import Tracing
import WardenCore

/// The part of the store a round trip belongs to: with the kind of round trip (a connection or a
/// transaction) it names the series of `warden_sql_query_duration_seconds`, a fixed set of values such as
/// `sessions_query` or `mfa_transaction` — never SQL text, keys or values.
enum SQLArea: String, CaseIterable, Sendable {
    case accounts, access, audit, keyring, mfa, sessions, maintenance
    case rateLimit = "rate_limit"

    /// The label value of a round trip on one connection outside a transaction.
    var query: String { rawValue + "_query" }
    /// The label value of a write transaction (from `BEGIN` to `COMMIT`).
    var transaction: String { rawValue + "_transaction" }
}

extension SQLStore {
    /// `backend.withConnection`, timed and traced (a span `sql <area>_query` inside a traced request):
    /// every store call that uses one connection goes through here.
    func onConnection<T: Sendable>(_ area: SQLArea, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await WardenTracing.span("sql " + area.query, ofKind: .client) { span in
            describe(span, operation: area.query)
            let started = ContinuousClock.now
            defer { timers.record(area.query, since: started) }
            return try await backend.withConnection(body)
        }
    }

    /// `backend.transaction`, timed and traced (a span `sql <area>_transaction`): every store call that
    /// writes in a transaction goes through here.
    func inTransaction<T: Sendable>(_ area: SQLArea, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await WardenTracing.span("sql " + area.transaction, ofKind: .client) { span in
            describe(span, operation: area.transaction)
            let started = ContinuousClock.now
            defer { timers.record(area.transaction, since: started) }
            return try await backend.transaction(body)
        }
    }

    /// The database and the operation, the same fixed vocabulary as the metric's label: never SQL text,
    /// keys or bound values.
    private func describe(_ span: (any Span)?, operation: String) {
        guard let span else { return }
        span.attributes["db.system.name"] = backend.kind == .postgres ? "postgresql" : "sqlite"
        span.attributes["db.operation.name"] = operation
    }
}
