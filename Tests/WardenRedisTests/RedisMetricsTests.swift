import Prometheus
import Testing
import WardenRedis
import WardenTestSupport

/// Round trips are timed by command or script name, never by key or argument.
@Suite(.serialized)
struct RedisMetricsTests {
    @Test func roundTripsAreTimedByCommandAndScriptNameNeverByKey() async throws {
        let server = try RedisServer(extraArguments: [])
        try await server.start()
        let registry = PrometheusCollectorRegistry()
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url), metrics: PrometheusMetricsFactory(registry: registry))
        try await client.send("SET", "account:secret-key-1", "v")
        try await client.send("get", "account:secret-key-1")
        _ = try await client.pipeline([["INCR", "n"], ["INCR", "n"]])
        let script = RedisScript(name: "test_incrby", "return redis.call('INCRBY', KEYS[1], ARGV[1])")
        _ = try await client.run(script, keys: ["account:secret-key-2"], arguments: [1])
        _ = try? await client.send([RedisArgument("SET x"), "k", "v"])  // Redis refuses it: timed all the same
        await client.close()
        await server.stop()
        let text = registry.emitToString()
        for command in ["SET", "GET", "pipeline"] {
            #expect(text.contains(#"warden_redis_command_duration_seconds_count{command="\#(command)"} 1"#))
        }
        // Two round trips under the script's name: EVALSHA, refused (a fresh server has no cached scripts), then EVAL.
        #expect(text.contains(#"warden_redis_command_duration_seconds_count{command="test_incrby"} 2"#))
        // A first argument that is not a command name is not a label value.
        #expect(text.contains(#"warden_redis_command_duration_seconds_count{command="other"} 1"#))
        #expect(!text.contains("secret-key"))
        #expect(!text.contains("EVALSHA"))
    }
}
