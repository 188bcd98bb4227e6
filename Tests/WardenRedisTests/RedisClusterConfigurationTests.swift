import Testing

@testable import WardenRedis

/// Cluster URLs and slots, without a server (RedisClusterTests runs a real cluster).
struct RedisClusterConfigurationTests {
    @Test func aClusterURLListsItsSeeds() throws {
        let configuration = try RedisConfiguration(url: "redis+cluster://warden:p%40ss@127.0.0.1:7000,127.0.0.1:7001,[::1]:7002")
        #expect(configuration.clusterSeeds == ["127.0.0.1:7000", "127.0.0.1:7001", "[::1]:7002"])
        #expect(configuration.username == "warden" && configuration.password == "p@ss")
        #expect(configuration.host == "127.0.0.1" && configuration.port == 7000 && !configuration.useTLS && configuration.database == 0)
        #expect(try RedisConfiguration(url: "rediss+cluster://10.0.0.1:6379").useTLS)
        #expect(try RedisConfiguration(url: "redis://127.0.0.1:6379").clusterSeeds.isEmpty)
    }

    @Test func aBadClusterURLIsRefusedWithoutRepeatingIt() {
        for url in ["redis+cluster://", "redis+cluster://u:secret-pw@host", "redis+cluster://u:secret-pw@host:0", "redis+cluster://host:7000/3", "redis+cluster://host:7000?x=1"] {
            do {
                _ = try RedisConfiguration(url: url)
                Issue.record("accepted \(url)")
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(!error.message.contains("secret-pw"))
            }
        }
    }

    /// Redis Cluster's specification: CRC16/XMODEM, whose check value for "123456789" is 0x31C3; hash tags.
    @Test func slotsFollowTheSpecification() {
        #expect(RedisCluster.slot(of: Array("123456789".utf8)) == 0x31C3 % 16_384)
        #expect(RedisCluster.slot(of: Array("{user1000}.following".utf8)) == RedisCluster.slot(of: Array("user1000".utf8)))
        #expect(RedisCluster.slot(of: Array("foo{}{bar}".utf8)) == RedisCluster.slot(of: Array("foo{}{bar}".utf8)))
        #expect(RedisCluster.slot(of: Array("foo{{bar}}zap".utf8)) == RedisCluster.slot(of: Array("{bar".utf8)))
        // A script's slot is its first key's; a keyless command has none.
        #expect(RedisCluster.slot(of: ["EVALSHA", "abc", "1", "t:{a}:s", "x"]) == RedisCluster.slot(of: Array("a".utf8)))
        #expect(RedisCluster.slot(of: ["INFO", "server"]) == nil)
        #expect(RedisCluster.slot(of: ["GET", "t:{a}:wm"]) == RedisCluster.slot(of: Array("a".utf8)))
    }
}
