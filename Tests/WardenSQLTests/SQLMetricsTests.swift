import Foundation
import Prometheus
import Testing
import WardenSQL
import WardenTestSupport

/// The store times its round trips by operation, a fixed vocabulary, never by SQL text or values.
struct SQLMetricsTests {
    @Test(arguments: TestDatabase.allCases)
    func roundTripsAreTimedByOperation(_ database: TestDatabase) async throws {
        let fixture = try await StoreFixture.make(database)
        let registry = PrometheusCollectorRegistry()
        let store = SQLStore(backend: fixture.store.backend, auditChain: testChain, keyringActor: "test", metrics: PrometheusMetricsFactory(registry: registry))
        try await store.append([AuditSQLTests.event(1, actor: "actor-secret-name")])
        _ = try await store.head()
        let missing = UUID()
        #expect(try await store.account(id: missing) == nil)
        _ = try await store.hit(key: "login:secret-key", window: 60, now: Date(), count: 1)
        let text = registry.emitToString()
        for operation in ["audit_transaction", "audit_query", "accounts_query", "rate_limit_query"] {
            #expect(text.contains(#"warden_sql_query_duration_seconds_count{operation="\#(operation)"} "#), "\(operation)")
        }
        for secret in ["actor-secret-name", "secret-key", missing.uuidString, missing.uuidString.lowercased(), "SELECT", "warden_accounts"] {
            #expect(!text.contains(secret))
        }
        await fixture.cleanup()
    }
}
