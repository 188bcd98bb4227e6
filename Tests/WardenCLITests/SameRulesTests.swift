import Foundation
import Testing
import WardenTestSupport

/// The command line and the HTTP API run the same use cases: the same action on two like accounts, once
/// with `warden users …` and once over HTTP against `warden serve` on the same data directory, leaves the
/// same audit entries (actions, outcomes and details), only the actor differs.
@Suite(.serialized)
struct SameRulesTests {
    static let password = "correct horse battery staple"

    @Test func cliAndHTTPRecordTheSameAuditEntries() async throws {
        var cli = try CLI()
        defer { cli.cleanup() }
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester"]
        for name in ["root", "ada", "bob"] {
            let created = try await cli.run(["users", "create", name, "--password-stdin"], input: Data((Self.password + "\n").utf8))
            #expect(created.status == 0, "\(created.stderr)")
        }
        #expect(try await cli.run(["users", "grant", "root", "super_admin"]).status == 0)
        func id(_ name: String) async throws -> String {
            let shown = try await cli.run(["users", "show", name, "--json"])
            return try #require((try JSONSerialization.jsonObject(with: shown.stdout) as? [String: Any])?["id"] as? String)
        }
        let ada = try await id("ada")
        let bob = try await id("bob")

        // ada through the command line.
        for arguments in [["users", "grant", "ada", "auditor"], ["users", "revoke", "ada", "auditor"], ["users", "disable", "ada"], ["users", "enable", "ada"]] {
            let result = try await cli.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(try await cli.run(["users", "set-password", "ada"], input: Data("a brand new passphrase\n".utf8)).status == 0)
        #expect(try await cli.run(["users", "delete", "ada", "--yes"]).status == 0)

        // bob over HTTP, as root.
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let script = """
            import json, sys, urllib.request
            base, bob, password = sys.argv[1], sys.argv[2], sys.argv[3]
            def call(method, path, body=None, token=None):
                data = json.dumps(body).encode() if body is not None else None
                request = urllib.request.Request(base + path, data=data, method=method)
                if data is not None: request.add_header("Content-Type", "application/json")
                if token: request.add_header("Authorization", "Bearer " + token)
                with urllib.request.urlopen(request) as response:
                    raw = response.read()
                    return json.loads(raw) if raw else {}
            token = call("POST", "/auth/login", {"username": "root", "password": password})["access_token"]
            call("POST", f"/admin/accounts/{bob}/roles", {"role": "auditor"}, token)
            call("DELETE", f"/admin/accounts/{bob}/roles/auditor", None, token)
            call("POST", f"/admin/accounts/{bob}/disable", None, token)
            call("POST", f"/admin/accounts/{bob}/enable", None, token)
            call("POST", f"/admin/accounts/{bob}/password", {"new_password": "a brand new passphrase"}, token)
            call("DELETE", f"/admin/accounts/{bob}", None, token)
            call("POST", "/v1/keys/rotate", None, token)
            print("ok")
            """
        let result = try await runProcess("/usr/bin/env", ["python3", "-c", script, server.url, bob, Self.password])
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))\n\(server.output)")
        await server.stop()

        let tail = try await cli.run(["audit", "tail", "--json", "--limit", "1000"])
        let events = tail.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        func entries(_ id: String) -> [String] {
            events.filter { $0["subject"] as? String == "account:" + id && $0["action"] as? String != "account.created" }.map { event in
                var details = event["details"] as? [String: String] ?? [:]
                details["username"] = nil
                details["until"] = nil
                return "\(event["action"] ?? "") \(event["outcome"] ?? "") \(details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
            }
        }
        let viaCLI = entries(ada)
        let viaHTTP = entries(bob)
        #expect(!viaCLI.isEmpty)
        #expect(viaCLI == viaHTTP, "CLI: \(viaCLI)\nHTTP: \(viaHTTP)")
        #expect(viaCLI.contains { $0.hasPrefix("session.revoked_all") })
        let actors = Set(events.filter { $0["subject"] as? String == "account:" + bob && $0["action"] as? String != "account.created" }.compactMap { $0["actor"] as? String })
        #expect(actors.allSatisfy { $0.hasPrefix("account:") })
        // A key rotation over HTTP names its caller, not the server's operating-system user.
        let root = try #require(events.first { $0["action"] as? String == "login.succeeded" }?["subject"] as? String)
        let rotation = try #require(events.last { $0["action"] as? String == "key.rotated" })
        #expect(rotation["actor"] as? String == root)
    }

    /// The command line revokes where the server looks: with `WARDEN_REDIS_URL` set, `users set-password`
    /// ends the sessions that `warden serve` keeps in Redis (the account stays active, so only the
    /// revocation can refuse the token).
    @Test func theCLIRevokesSessionsKeptInRedis() async throws {
        let redis = try RedisServer()
        try await redis.start()
        var cli = try CLI()
        cli.environment = ["WARDEN_SCRYPT_LOG_N": "10", "USER": "tester", "WARDEN_REDIS_URL": redis.url]
        defer { cli.cleanup() }
        #expect(try await cli.run(["users", "create", "ada", "--password-stdin"], input: Data((Self.password + "\n").utf8)).status == 0)
        let server = try await ServeProcess.start(
            CLI.executable, ["serve", "--port", "0", "--no-tls"], environment: cli.processEnvironment, directory: cli.directory)
        let script = """
            import json, sys, urllib.request, urllib.error
            base, step = sys.argv[1], sys.argv[2]
            def call(method, path, body=None, token=None):
                data = json.dumps(body).encode() if body is not None else None
                request = urllib.request.Request(base + path, data=data, method=method)
                if data is not None: request.add_header("Content-Type", "application/json")
                if token: request.add_header("Authorization", "Bearer " + token)
                try:
                    with urllib.request.urlopen(request) as response:
                        return response.status, json.loads(response.read() or b"{}")
                except urllib.error.HTTPError as error:
                    return error.code, {}
            if step == "login":
                print(call("POST", "/auth/login", {"username": "ada", "password": sys.argv[3]})[1]["access_token"])
            else:
                print(call("GET", "/auth/sessions", token=sys.argv[3])[0])
            """
        func python(_ arguments: String...) async throws -> String {
            let result = try await runProcess("/usr/bin/env", ["python3", "-c", script] + arguments)
            return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let token = try await python(server.url, "login", Self.password)
        #expect(try await python(server.url, "check", token) == "200")
        let reset = try await cli.run(["users", "set-password", "ada"], input: Data("a brand new passphrase\n".utf8))
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.line.contains("1 sessions revoked"), "\(reset.output)")
        #expect(try await python(server.url, "check", token) == "401")
        await server.stop()
        await redis.stop()
    }
}
