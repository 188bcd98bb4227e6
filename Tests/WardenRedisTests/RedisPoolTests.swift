import NIOCore
import NIOPosix
import Testing
import WardenTestSupport

@testable import WardenRedis

/// Which event loop a caller's connection lives on, against a real `redis-server`.
@Suite(.serialized)
struct RedisPoolTests {
    /// A burst on one loop takes at most that loop's share of the bound, so a caller on another loop still
    /// gets a connection of its own loop (whose replies resume it there) instead of one of the first loop's.
    @Test func aBurstOnOneLoopLeavesTheOtherLoopsTheirShare() async throws {
        let server = try RedisServer()
        try await server.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        var configuration = try RedisConfiguration(url: server.url)
        configuration.maximumConnections = 4
        let pool = RedisPool(configuration: configuration, group: group)
        do {
            // Six callers on the first loop hold their connections at once: they open its share (two) and
            // then share those.
            var first: [RedisConnection] = []
            for _ in 0..<6 { first.append(try await pool.lease(preferring: loops[0])) }
            #expect(first.allSatisfy { $0.channel.eventLoop === loops[0] })
            #expect(Set(first.map(ObjectIdentifier.init)).count == 2)
            // The second loop, with the first loop's connections all busy, gets its own.
            var second: [RedisConnection] = []
            for _ in 0..<6 { second.append(try await pool.lease(preferring: loops[1])) }
            #expect(second.allSatisfy { $0.channel.eventLoop === loops[1] })
            #expect(Set(second.map(ObjectIdentifier.init)).count == 2)
            // The bound holds: four connections in all, whatever the callers' loops.
            let clients = try await first[0].send(["CLIENT", "LIST"]).string ?? ""
            #expect(clients.split(separator: "\n").count == 4)
            // A caller on no loop of the pool takes the least busy connection, on either loop.
            let anywhere = try await pool.lease(preferring: nil)
            #expect(loops.contains { $0 === anywhere.channel.eventLoop })
            for connection in first + second + [anywhere] { pool.release(connection) }
        } catch {
            await pool.close()
            try await group.shutdownGracefully()
            await server.stop()
            throw error
        }
        await pool.close()
        try await group.shutdownGracefully()
        await server.stop()
    }
}
