import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WardenAccess
import WardenHTTP
import WardenTestSupport

/// `GET /metrics` read by a real Prometheus parser (`prometheus_client`'s text parser), not by string
/// matching: the format is valid, the series are by route pattern, and the names operators alert on stay.
struct MetricsExpositionTests {
    /// One sample as the parser read it.
    struct Sample: Decodable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// One family: its type and samples.
    struct Family: Decodable {
        let type: String
        let samples: [Sample]
    }

    /// Parses `text` with `prometheus_client.parser.text_string_to_metric_families`; families by name.
    static func parse(_ text: String) async throws -> [String: Family] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("warden-metrics-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            families = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                families[family.name] = {"type": family.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
            print(json.dumps(families))
            """
        let (status, output, errors) = try await runProcess("/usr/bin/env", ["python3", "-c", script, file.path])
        try #require(status == 0, "the parser refused the exposition: \(String(decoding: errors, as: UTF8.self))")
        return try JSONDecoder().decode([String: Family].self, from: output)
    }

    @Test func theExpositionParsesAndCountsRequestsByRoutePattern() async throws {
        // The in-process client has no address ("unknown"): let it read the metrics.
        let f = try await APIFixture.make { $0.metricsAddresses = ["unknown"] }
        let ada = try await f.account("ada")
        let text = try await f.app.test(.router) { client async throws -> String in
            let token = try await client.login("ada")["access_token"] as! String
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": "wrong horse"]).status == .unauthorized)
            for _ in 0..<3 { #expect(try await client.json(.get, "/auth/sessions", token: token).status == .ok) }
            // A route with the account's id in its path: refused (ada is no administrator).
            #expect(try await client.json(.get, "/admin/accounts/\(ada.id.uuidString.lowercased())", token: token).status == .forbidden)
            // A path no route takes, with the id in it.
            #expect(try await client.json(.get, "/no/such/\(ada.id.uuidString.lowercased())").status == .notFound)
            return try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
        let families = try await Self.parse(text)
        let samples = families.values.flatMap(\.samples)
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
        }

        // The request histogram, by route pattern and method.
        #expect(families["warden_http_request_duration_seconds"]?.type == "histogram")
        #expect(value("warden_http_request_duration_seconds_count", ["method": "GET", "route": "/auth/sessions"]) == 3)
        #expect(value("warden_http_request_duration_seconds_bucket", ["method": "GET", "route": "/auth/sessions", "le": "+Inf"]) == 3)
        #expect(value("warden_http_requests_total", ["method": "GET", "route": "/auth/sessions", "status": "200"]) == 3)
        #expect(value("warden_http_requests_total", ["method": "POST", "route": "/auth/login", "status": "401"]) == 1)

        // No raw path: the account's id appears in no label value, its route only as a pattern.
        let id = ada.id.uuidString.lowercased()
        #expect(!samples.contains { $0.labels.values.contains { $0.lowercased().contains(id) } })
        let adminRoutes = Set(samples.compactMap { $0.labels["route"] }.filter { $0.hasPrefix("/admin/accounts/") })
        #expect(adminRoutes == ["/admin/accounts/{id}"] || adminRoutes == ["/admin/accounts/:id"], "\(adminRoutes)")

        // Failures by route pattern and error code.
        let adminRoute = try #require(adminRoutes.first)
        #expect(value("warden_request_failures_total", ["route": adminRoute, "code": "forbidden"]) == 1)
        #expect(value("warden_request_failures_total", ["route": "/auth/login", "code": "invalid_credentials"]) == 1)

        // The counters keep their names and labels.
        #expect(value("warden_logins_total", ["outcome": "success"]) == 1)
        #expect(value("warden_logins_total", ["outcome": "failure"]) == 1)
        for counter in ["warden_http_requests", "warden_logins", "warden_request_failures"] {
            #expect(families[counter]?.type == "counter", "\(counter)")
        }
        #expect(families["warden_key_primary_version"]?.type == "gauge")
        #expect(value("warden_key_primary_version", [:]) == 1)
        #expect(value("warden_key_unknown_reloads", ["key": "field"]) == 0)
        #expect(value("warden_key_unknown_reloads", ["key": "signing"]) == 0)
        #expect(samples.contains { $0.name == "warden_key_age_seconds" && $0.labels == ["state": "primary", "version": "1"] })
        // Every family has its help line.
        for name in ["warden_http_request_duration_seconds", "warden_logins_total", "warden_key_age_seconds"] {
            #expect(text.contains("# HELP \(name) "), "\(name)")
        }
    }
}
