import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenAudit
import WardenCore
import WardenHTTP

/// Over a real socket: the client's address, trusted proxies, metrics.
struct LiveTests {
    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() async throws {
        let untrusted = try await APIFixture.make()
        try await untrusted.app.test(.live) { client async throws in
            _ = try await client.json(.post, "/auth/login", ["username": "nobody", "password": "x"], headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"])
        }
        #expect(untrusted.audit.events.last { $0.action == "login.failed" }?.sourceAddress == "127.0.0.1")

        let trusted = try await APIFixture.make { $0.trustedProxies = ["127.0.0.0/8"] }
        try await trusted.app.test(.live) { client async throws in
            _ = try await client.json(.post, "/auth/login", ["username": "nobody", "password": "x"], headers: [HTTPField.Name("X-Forwarded-For")!: "198.51.100.4, 203.0.113.9"])
        }
        #expect(trusted.audit.events.last { $0.action == "login.failed" }?.sourceAddress == "203.0.113.9")
    }

    @Test func metricsFromLoopbackByRouteTemplate() async throws {
        let f = try await APIFixture.make()
        try await f.account("ada")
        try await f.app.test(.live) { client async throws in
            let token = try await client.login("ada")["access_token"] as! String
            _ = try await client.json(.delete, "/auth/sessions/\(String(repeating: "a", count: 64))", token: token)
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains("warden_http_requests_total{method=\"POST\",route=\"/auth/login\",status=\"200\"} 1"))
            #expect(text.contains("route=\"/auth/sessions/{id}\"") || text.contains("route=\"/auth/sessions/:id\""))
            #expect(text.contains("warden_logins_total{outcome=\"success\"} 1"))
            #expect(text.contains("warden_key_age_seconds{state=\"primary\",version=\"1\"}"))
            #expect(text.contains("# TYPE warden_http_request_duration_seconds histogram"))
        }
    }
}
