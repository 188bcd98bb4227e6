import Foundation
import Synchronization
import Testing
import WardenAudit
import WardenCore
import WardenRedis
import WardenSessions
import WardenTestSupport

/// Warden on a real Redis Cluster (three primaries, three replicas): slots as Redis computes them,
/// keys spread over the primaries, and a primary killed under load.
@Suite(.serialized)
struct RedisClusterTests {
    /// The client's slot for a key is the server's (`CLUSTER KEYSLOT`), hash tags included.
    @Test func slotsAreTheServersSlots() async throws {
        let cluster = try await RedisClusterServers.shared()
        let client = RedisClient(configuration: try RedisConfiguration(url: cluster.url))
        defer { Task { await client.close() } }
        let keys = ["a", "warden:{6f1c2a3e-0000-4000-8000-000000000001}:s:abc", "{}x", "x{}", "{a}{b}", "foo{bar}baz", "{user1000}.following", "ü", ""]
        for key in keys {
            let server = try await client.send("CLUSTER", "KEYSLOT", RedisArgument(key)).int
            // The client routes by its own computation: a key written and read back proves it went to
            // the right primary (a wrong one answers MOVED, which the client follows, so compare too).
            #expect(server.map(Int.init) == RedisClusterTests.slot(key), "\(key)")
        }
    }

    /// Sessions of many accounts spread over every primary, and each account's keys stay in one slot
    /// (its scripts would fail with CROSSSLOT otherwise).
    @Test func accountsSpreadOverEveryPrimary() async throws {
        let cluster = try await RedisClusterServers.shared()
        let client = RedisClient(configuration: try RedisConfiguration(url: cluster.url))
        defer { Task { await client.close() } }
        let (service, _) = try await Self.service(client)
        var slots: Set<Int> = []
        for _ in 0..<30 {
            let account = UUID()
            let issued = try await service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
            _ = try await service.authenticate(accessToken: issued.accessToken)
            #expect(try await service.sessions(accountID: account).count == 1)
            slots.insert(Self.slot("{\(account.lowercasedText)}"))
        }
        let primaries = try await cluster.primaries()
        #expect(primaries.count == 3)
        // 30 random accounts over 3 primaries: each primary serves a third of the slots.
        var owners: Set<Int> = []
        for slot in slots { owners.insert(try await Self.owner(of: slot, cluster: cluster)) }
        #expect(owners.count == 3, "the accounts' keys all landed on \(owners)")
    }

    /// A primary killed while requests run: its replica takes over, requests on its slots answer
    /// "unavailable" (HTTP 503) for a few seconds, never a wrong answer, and recover by themselves.
    ///
    /// Wrong answers are listed by kind in the output. (One run once gave 1,014: the killed node's port,
    /// then free, was probably taken by another test's standalone server; killed nodes' ports are now
    /// held by a `PortTombstone`.)
    @Test
    func aPrimaryKilledUnderLoadFailsOverWithoutAWrongAnswer() async throws {
        let cluster = try await RedisClusterServers.start()
        defer { Task { await cluster.stop() } }
        var configuration = try RedisConfiguration(url: cluster.url)
        configuration.initialBackoff = .milliseconds(20)
        configuration.maximumBackoff = .milliseconds(200)
        configuration.commandTimeout = .milliseconds(500)
        let client = RedisClient(configuration: configuration)
        defer { Task { await client.close() } }
        let (service, _) = try await Self.service(client)
        // 24 accounts, each with a live and a revoked session.
        var liveTokens: [String] = []
        var revokedTokens: [String] = []
        for _ in 0..<24 {
            let account = UUID()
            let kept = try await service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
            let ended = try await service.start(accountID: account, device: SessionServiceTests.device, level: .password, context: SessionServiceTests.context)
            try await service.logout(try await service.authenticate(accessToken: ended.accessToken), context: SessionServiceTests.context)
            liveTokens.append(kept.accessToken)
            revokedTokens.append(ended.accessToken)
        }
        let victim = try #require(try await cluster.primaries().first)
        // Redis replicates asynchronously: a primary killed before its replica has the last writes loses
        // them (seen here: sessions created 0.5 s before the kill, not yet acknowledged by the replica,
        // were gone after the failover). The test kills a primary whose writes its replica holds; the
        // window itself is documented in docs/sessions.md.
        try await Self.waitUntilReplicated(victim)
        let tally = Shared((ok: 0, unavailable: 0, wrong: 0, lastUnavailable: ContinuousClock.now, kinds: [String: Int]()))
        let start = ContinuousClock.now
        let stop = Shared(false)
        let (live, revoked) = (liveTokens, revokedTokens)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var index = worker
                    while !stop.withLock({ $0 }) {
                        // Steady load, not a spin: the rest of the suite runs on the same two cores.
                        try? await Task.sleep(for: .milliseconds(1))
                        let (token, valid) = index % 2 == 0 ? (live[index / 2 % live.count], true) : (revoked[index / 2 % revoked.count], false)
                        index += 8
                        do {
                            _ = try await service.authenticate(accessToken: token)
                            tally.withLock { counts in
                                if valid {
                                    counts.ok += 1
                                } else {
                                    counts.wrong += 1
                                    counts.kinds["revoked token accepted", default: 0] += 1
                                }
                            }
                        } catch let error as SessionError {
                            switch error.code {
                            case .unavailable:
                                tally.withLock {
                                    $0.unavailable += 1
                                    $0.lastUnavailable = .now
                                }
                            case .invalidToken where !valid: tally.withLock { $0.ok += 1 }
                            default:
                                tally.withLock {
                                    $0.wrong += 1
                                    $0.kinds["live token: \(error.code) \(error.message.prefix(80))", default: 0] += 1
                                }
                            }
                        } catch {
                            tally.withLock {
                                $0.wrong += 1
                                $0.kinds["live or revoked token: \(type(of: error)) \(String(describing: error).prefix(80))", default: 0] += 1
                            }
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(500))
                await cluster.killNode(victim)
                try await cluster.waitUntilHealthy(timeout: .seconds(30))
                // Once the replica has taken over, requests must succeed again by themselves.
                let healthy = ContinuousClock.now
                var recovered = false
                while !recovered, ContinuousClock.now - healthy < .seconds(15) {
                    try await Task.sleep(for: .milliseconds(500))
                    recovered = tally.withLock { ContinuousClock.now - $0.lastUnavailable > .seconds(2) }
                }
                stop.withLock { $0 = true }
            }
            try await group.waitForAll()
        }
        let result = tally.withLock { $0 }
        print("failover: \(result.ok) right answers, \(result.unavailable) unavailable, \(result.wrong) wrong; last unavailable \(result.lastUnavailable - start) after the start")
        for (kind, count) in result.kinds.sorted(by: { $0.value > $1.value }) { print("failover: wrong answer \(count)× \(kind)") }
        #expect(result.wrong == 0, "a request got a wrong answer during the failover")
        #expect(result.ok > 100)
        // Unavailable answers stopped: the client learnt the new primary and the ledger was replayed into it.
        #expect(ContinuousClock.now - result.lastUnavailable > .seconds(2), "requests still failed at the end")
        // The primary died 0.5 s in; its replica takes over after the 2 s node timeout.
        #expect(result.lastUnavailable - start < .seconds(15), "503s for too long")
        for token in live { _ = try await service.authenticate(accessToken: token) }
        for token in revoked { await #expect(throws: SessionError.invalidToken) { try await service.authenticate(accessToken: token) } }
    }

    /// Threat: a pipeline that met `ASK` (its slot half migrated) was sent again whole, with one `ASKING`
    /// (which covers only the command after it), so the commands whose keys had not moved bounced back
    /// with `MOVED` until the client gave up, and the ones that had run ran twice. A ledger replay during
    /// a slot migration could never finish. Now only the redirected commands go again, each after its
    /// own `ASKING`, and every command runs once, where its key is.
    @Test func aPipelineDuringASlotMigrationRunsEachCommandOnceWhereItsKeyIs() async throws {
        let cluster = try await RedisClusterServers.start()
        defer { Task { await cluster.stop() } }
        let client = RedisClient(configuration: try RedisConfiguration(url: cluster.url))
        let tag = "{ask-\(UUID().uuidString.prefix(8))}"
        let (moved, stays) = (tag + ":moved", tag + ":stays")
        let slot = Self.slot(moved)
        let source = try await Self.owner(of: slot, cluster: cluster)
        let target = try #require(try await cluster.primaries().first { $0 != source })
        func cli(_ port: Int, _ arguments: [String], input: String = "") async throws -> String {
            let (_, out, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(port)] + arguments, input: Data(input.utf8))
            return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try await client.send("SET", RedisArgument(moved), "1")
        try await client.send("SET", RedisArgument(stays), "1")
        // Half a migration, as `redis-cli --cluster reshard` leaves it between keys.
        let (sourceID, targetID) = (try await cli(source, ["CLUSTER", "MYID"]), try await cli(target, ["CLUSTER", "MYID"]))
        #expect(try await cli(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID]) == "OK")
        #expect(try await cli(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID]) == "OK")
        #expect(try await cli(source, ["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS", moved]) == "OK")

        let replies = try await client.pipeline([["INCR", RedisArgument(moved)], ["INCR", RedisArgument(stays)], ["GET", RedisArgument(stays)]])
        #expect(replies[0].int == 2)
        #expect(replies[1].int == 2)
        #expect(replies[2].string == "2")
        // Each ran once, on the node that holds its key.
        #expect(try await cli(source, ["GET", stays]) == "2")
        #expect(try await cli(target, [], input: "ASKING\nGET \(moved)\n").hasSuffix("2"))
        await client.close()
    }

    // MARK: Helpers

    /// Waits until the replica of the primary on `port` has acknowledged the primary's whole replication
    /// stream (replicas acknowledge once a second).
    static func waitUntilReplicated(_ port: Int) async throws {
        for _ in 0..<50 {
            let (_, out, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(port), "INFO", "replication"])
            let lines = String(decoding: out, as: UTF8.self).split(separator: "\r\n")
            let primary = lines.first { $0.hasPrefix("master_repl_offset:") }.flatMap { Int($0.split(separator: ":")[1]) }
            let replica = lines.first { $0.hasPrefix("slave0:") }.flatMap { line in
                line.split(separator: ",").first { $0.hasPrefix("offset=") }.flatMap { Int($0.dropFirst("offset=".count)) }
            }
            if let primary, let replica, replica >= primary { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the replica of port \(port) did not catch up within 5 s")
    }

    static func service(_ client: RedisClient) async throws -> (SessionService, MemoryRevocationLedger) {
        let store = RedisSessionStore(client: client, prefix: "c\(UUID().uuidString.prefix(8))")
        let tokens = try await TokenFixture.make(verifyingAt: SystemWallClock())
        let ledger = MemoryRevocationLedger()
        let service = SessionService(store: store, activity: store, ledger: ledger, tokens: tokens.tokens, audit: MemoryAuditLog(chain: SessionBackend.chain))
        try await service.replayIfRestarted()
        return (service, ledger)
    }

    /// Redis's slot of a key (CRC16/XMODEM of the hash tag or the key, modulo 16384).
    static func slot(_ key: String) -> Int {
        var bytes = Array(key.utf8)[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")), let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            bytes = bytes[(open + 1)..<close]
        }
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return Int(crc) % 16_384
    }

    /// The port of the primary serving `slot`, from `CLUSTER SLOTS` (with redis-cli, an independent client).
    static func owner(of slot: Int, cluster: RedisClusterServers) async throws -> Int {
        let (_, stdout, _) = try await runProcess("/usr/bin/env", ["redis-cli", "-p", String(cluster.ports[0]), "--no-raw", "CLUSTER", "SLOTS"])
        // Lines: start, end, then the primary's host and port.
        let numbers = String(decoding: stdout, as: UTF8.self).split(separator: "\n").map { line in
            line.split(separator: " ").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? ""
        }
        var index = 0
        while index + 3 < numbers.count {
            if let start = Int(numbers[index]), let end = Int(numbers[index + 1]), let port = Int(numbers[index + 3]), (start...end).contains(slot) { return port }
            index += 1
        }
        throw SetupError(description: "no owner for slot \(slot)")
    }
}

/// A value shared by concurrent tasks.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<T>(_ body: (inout sending Value) -> sending T) -> T { value.withLock(body) }
}
