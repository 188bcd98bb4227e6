import Foundation
import Synchronization
import Testing
import WardenApp
import WardenAudit
import WardenAuth
import WardenCore
import WardenCrypto
import WardenSQL
import WardenSessions
import WardenTestSupport

/// Two-phase key rollouts (``KeyRollout``): a published key seals and signs nothing until every live node
/// holds it, or until the propagation interval has passed on the promoting node's own clock.
@Suite(.serialized)
struct KeyRolloutTests {
    /// One node of a test: its own cipher, signing keys and rollout over stores shared with the others.
    struct Node: Sendable {
        let cipher: FieldCipher
        let keys: TokenKeys
        let tokens: TokenService
        let rollout: KeyRollout
    }

    static func node(
        keyring: any KeyringStore, signingKeys: any SigningKeyStore, registry: (any NodeRegistry)?, masterKey: MasterKey, policy: KeyRollout.Policy,
        clock: any WallClock = SystemWallClock()
    ) async throws -> Node {
        var configuration = FieldCipher.Configuration()
        configuration.rotatesInTwoPhases = registry != nil
        let cipher = try await FieldCipher.load(store: keyring, masterKey: masterKey, configuration: configuration, clock: clock)
        let keys = TokenKeys(store: signingKeys, cipher: cipher, overlap: 3600, clock: clock, rotatesInTwoPhases: registry != nil)
        try await keys.load()
        let rollout = KeyRollout(
            cipher: cipher, keys: keys, registry: registry, node: KeyRollout.makeNodeName(), managesSigningKeys: true, policy: policy)
        try await rollout.step()
        return Node(cipher: cipher, keys: keys, tokens: TokenService(keys: keys), rollout: rollout)
    }

    @Test func aPublishedVersionBecomesPrimaryOnlyOnceEveryLiveNodeHoldsIt() async throws {
        let masterKey = MasterKey.generate().key
        let (keyring, signing, registry) = (MemoryKeyringStore(), MemorySigningKeyStore(), MemoryNodeRegistry())
        let policy = KeyRollout.Policy(reloadInterval: 3600)
        var nodes: [Node] = []
        for _ in 0..<3 { nodes.append(try await Self.node(keyring: keyring, signingKeys: signing, registry: registry, masterKey: masterKey, policy: policy)) }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        #expect(a.cipher.keyring.primaryVersion == 1)

        let published = try await a.rollout.rotateFieldKey()
        #expect(published.primaryVersion == 1)
        #expect(published.publishedVersion?.version == 2)
        #expect(published.info(for: 2)?.state == .published)
        // A seals with version 1 still: B and C have not loaded version 2.
        let sealed = try await a.cipher.seal(Data("ada".utf8), context: "t/1")
        #expect(sealed.keyVersion == 1)
        // B loads and reports it; C has not: still not primary.
        let stepB = try await b.rollout.step()
        #expect(stepB.promotedFieldVersion == nil)
        #expect(b.cipher.keyring.primaryVersion == 1)
        // C reports it, and with every live node holding it, promotes it.
        let stepC = try await c.rollout.step()
        #expect(stepC.promotedFieldVersion == 2)
        #expect(c.cipher.keyring.primaryVersion == 2)
        // A ciphertext C seals now opens on A and B without re-reading (they hold version 2).
        let sealedByC = try await c.cipher.seal(Data("grace".utf8), context: "t/2")
        #expect(sealedByC.keyVersion == 2)
        for node in [a, b] {
            #expect(try node.cipher.open(sealedByC.text, context: "t/2").plaintext == Data("grace".utf8))
        }

        // Signing keys the same way: published, verifying everywhere, signing only after every node holds it.
        let before = try #require(await a.keys.signingKID)
        try await a.rollout.rotateSigningKey()
        let kid = try #require(await a.keys.publishedKID)
        #expect(await a.keys.signingKID == before)
        #expect(String(decoding: await a.keys.jwks(), as: UTF8.self).contains(kid))
        try await b.rollout.step()
        #expect(await b.keys.signingKID == before)
        let step = try await c.rollout.step()
        #expect(step.promotedSigningKey == kid)
        #expect(await c.keys.signingKID == kid)
        let token = try await c.tokens.issue(.access, accountID: UUID(), sessionID: "s", tokenID: "t", level: .password, now: Date())
        _ = try await a.tokens.verify(token, as: .access)
        #expect(a.keys.unknownKIDReloadCount == 0)
    }

    @Test func aNodeThatStopsReportingIsWaitedForOnlyUntilThePropagationInterval() async throws {
        let masterKey = MasterKey.generate().key
        let clock = ManualWallClock(Date())
        let (keyring, signing, registry) = (MemoryKeyringStore(), MemorySigningKeyStore(), MemoryNodeRegistry(clock: clock))
        let policy = KeyRollout.Policy(reloadInterval: 10, propagationInterval: 3, liveness: 30)
        let a = try await Self.node(keyring: keyring, signingKeys: signing, registry: registry, masterKey: masterKey, policy: policy, clock: clock)
        _ = try await Self.node(keyring: keyring, signingKeys: signing, registry: registry, masterKey: masterKey, policy: policy, clock: clock)
        // The second node is live (it reported) but never steps again.
        _ = try await a.rollout.rotateFieldKey()
        #expect(try await a.rollout.step().promotedFieldVersion == nil)
        // The wall clock jumping ahead does not count: the interval is measured on the monotonic clock.
        clock.advance(by: 20)
        #expect(try await a.rollout.step().promotedFieldVersion == nil)
        try await Task.sleep(for: .seconds(3.1))
        #expect(try await a.rollout.step().promotedFieldVersion == 2)

        // A node silent for longer than the liveness window is not waited for at all.
        clock.advance(by: 31)
        _ = try await a.rollout.rotateFieldKey()
        #expect(a.cipher.keyring.primaryVersion == 3)
    }

    /// Liveness is judged by the database server's clock: a node whose wall clock runs two minutes behind
    /// (more than the 90 s liveness window) is still waited for. Dated by its own clock, its report made
    /// it look dead, and the others promoted a version it had not loaded.
    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func aNodeWhoseClockRunsBehindIsStillWaitedFor() async throws {
        let database = try await TestDatabase.makePostgresURL()
        defer { Task { await database.cleanup() } }
        let masterKey = MasterKey.generate().key
        let policy = KeyRollout.Policy(reloadInterval: 600, propagationInterval: 600, liveness: 90)
        var stores: [SQLStore] = []
        for _ in 0..<2 {
            stores.append(try await SQLStore.open(url: database.url, sqlitePath: "", auditChain: AuditChain(key: masterKey.auditKey), keyringActor: "test"))
        }
        let a = try await Self.node(keyring: stores[0], signingKeys: stores[0], registry: stores[0], masterKey: masterKey, policy: policy)
        let behind = try await Self.node(
            keyring: stores[1], signingKeys: stores[1], registry: stores[1], masterKey: masterKey, policy: policy,
            clock: ManualWallClock(Date().addingTimeInterval(-120)))
        #expect(try await stores[0].nodes(seenWithin: 90).count == 2)

        _ = try await a.rollout.rotateFieldKey()
        try await a.rollout.rotateSigningKey()
        let kid = try #require(await a.keys.publishedKID)
        #expect(a.cipher.keyring.primaryVersion == 1, "promoted without the node whose clock runs behind")
        #expect(await a.keys.signingKID != kid)

        // Once that node holds both, they are promoted (by whichever node steps next).
        let step = try await behind.rollout.step()
        #expect(step.promotedFieldVersion == 2)
        #expect(step.promotedSigningKey == kid)
        try await a.rollout.step()
        #expect(a.cipher.keyring.primaryVersion == 2)
        #expect(await a.keys.signingKID == kid)

        // A clean shutdown's forget removes the node at once, whatever its clock.
        try await stores[1].forget(node: try #require(behind.rollout.node), staleAfter: 86_400)
        #expect(try await stores[0].nodes(seenWithin: 90).count == 1)
        for store in stores { try? await store.close() }
    }

    /// A key met before it was loaded is counted (`warden_key_unknown_reloads`) only when a re-read finds
    /// it: a made-up key version or `kid` is refused and not counted, so the count stays a sign of a
    /// rollout fault, not of what clients send.
    @Test func onlyKeysThatARereadFindsAreCountedAsMetBeforeLoading() async throws {
        let masterKey = MasterKey.generate().key
        let (keyring, signing) = (MemoryKeyringStore(), MemorySigningKeyStore())
        let policy = KeyRollout.Policy(reloadInterval: 3600)
        let clock = ManualWallClock(Date())
        let a = try await Self.node(keyring: keyring, signingKeys: signing, registry: nil, masterKey: masterKey, policy: policy, clock: clock)
        let b = try await Self.node(keyring: keyring, signingKeys: signing, registry: nil, masterKey: masterKey, policy: policy, clock: clock)

        // Made-up ones first: refused, not counted.
        let sealed = try await a.cipher.seal(Data("x".utf8), context: "c")
        let madeUp = sealed.text.replacingOccurrences(of: "wd1:1:", with: "wd1:9:")
        #expect(madeUp != sealed.text)
        await #expect(throws: WardenCryptoError.self) { try await a.cipher.openRefreshingKeyring(madeUp, context: "c") }
        let token = try await a.tokens.issue(.access, accountID: UUID(), sessionID: "s", tokenID: "t", level: .password, now: clock.now())
        let parts = token.split(separator: ".")
        let header = Base64.encode(Data(#"{"alg":"EdDSA","kid":"made-up","typ":"JWT"}"#.utf8), alphabet: .url, padded: false)
        clock.advance(by: 6)  // past the token keys' re-read interval
        await #expect(throws: SessionError.self) { try await a.tokens.verify("\(header).\(parts[1]).\(parts[2])", as: .access) }
        #expect(a.cipher.unknownVersionReloadCount == 0)
        #expect(a.keys.unknownKIDReloadCount == 0)

        // B rotates both at once (no registry, so no protocol): A meets them before loading them.
        _ = try await b.rollout.rotateFieldKey()
        try await b.rollout.rotateSigningKey()
        let sealedByB = try await b.cipher.seal(Data("y".utf8), context: "c")
        #expect(sealedByB.keyVersion == 2)
        try await Task.sleep(for: .milliseconds(1100))  // past the keyring's re-read interval
        #expect(try await a.cipher.openRefreshingKeyring(sealedByB.text, context: "c").plaintext == Data("y".utf8))
        #expect(a.cipher.unknownVersionReloadCount == 1)
        clock.advance(by: 6)
        let tokenByB = try await b.tokens.issue(.access, accountID: UUID(), sessionID: "s", tokenID: "t2", level: .password, now: clock.now())
        _ = try await a.tokens.verify(tokenByB, as: .access)
        #expect(a.keys.unknownKIDReloadCount == 1)
    }

    /// Made-up key versions cannot make every request read the keyring store: an open that meets an
    /// unknown version re-reads at most once a second, and callers arriving meanwhile fail without a read.
    @Test func madeUpKeyVersionsReadTheKeyringAtMostOnceASecond() async throws {
        let store = CountingKeyringStore()
        let cipher = try await FieldCipher.load(store: store, masterKey: MasterKey.generate().key)
        let sealed = try await cipher.seal(Data("x".utf8), context: "c")
        let madeUp = sealed.text.replacingOccurrences(of: "wd1:1:", with: "wd1:7:")
        let before = store.loads.load(ordering: .relaxed)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<25 { group.addTask { _ = try? await cipher.openRefreshingKeyring(madeUp, context: "c") } }
        }
        for _ in 0..<5 { _ = try? await cipher.openRefreshingKeyring(madeUp, context: "c") }
        #expect(store.loads.load(ordering: .relaxed) - before == 1, "30 opens of a made-up version read the store more than once")
        try await Task.sleep(for: .milliseconds(1100))
        _ = try? await cipher.openRefreshingKeyring(madeUp, context: "c")
        #expect(store.loads.load(ordering: .relaxed) - before == 2)
        #expect(cipher.unknownVersionReloadCount == 0)
    }

    /// A starting server joins the rollout holding nothing before it loads any key (`Runtime.make` with a
    /// node name), so a key published while it starts waits for its report; reported only after loading,
    /// a key promoted in between was sealed with before the new server held it.
    @Test func aStartingServerIsWaitedForFromBeforeItLoadsAnyKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-start-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = WardenConfiguration()
        configuration.dataDirectory = directory
        configuration.masterKeySettings = ["WARDEN_MASTER_KEY": MasterKey.generate().base64]
        let server = try await configuration.open(node: "starting")
        let command = try await configuration.open()
        let registry = try #require(server.store)
        let joined = try await registry.nodes(seenWithin: 60)
        #expect(joined.map(\.node) == ["starting"])
        #expect(joined.first?.fieldKeyVersion == 0)
        #expect(joined.first?.signingKeys == [])

        // A rotation while it starts is published, and waits for it.
        let published = try await command.rollout.rotateFieldKey()
        #expect(published.primaryVersion == 1)
        #expect(published.publishedVersion?.version == 2)
        // Its first step (what `warden serve` runs once started) loads and reports the key, and promotes it.
        let step = try await server.rollout.step()
        #expect(step.promotedFieldVersion == 2)
        await command.close()
        await server.close()
    }

    @Test func aLoneProcessRotatesAtOnce() async throws {
        let masterKey = MasterKey.generate().key
        let node = try await Self.node(
            keyring: MemoryKeyringStore(), signingKeys: MemorySigningKeyStore(), registry: nil, masterKey: masterKey, policy: KeyRollout.Policy())
        #expect(try await node.rollout.rotateFieldKey().primaryVersion == 2)
        let before = await node.keys.signingKID
        try await node.rollout.rotateSigningKey()
        #expect(await node.keys.signingKID != before)
    }

    /// Three nodes on one PostgreSQL, each with its own connection pool, keys and rollout loop woken by
    /// `LISTEN/NOTIFY`, under continuous cross-node encryption and token traffic while the field key and
    /// the signing key each rotate ten times: no ciphertext or token is ever refused by another node, and
    /// no node ever meets a key it has not loaded. The control run (rotation at once, no protocol) shows
    /// that the same traffic does meet unknown keys.
    @Test(.enabled(if: TestDatabase.postgresURL != nil), arguments: [true, false])
    func threeNodesUnderLoadWhileKeysRotateTenTimes(twoPhase: Bool) async throws {
        let database = try await TestDatabase.makePostgresURL()
        defer { Task { await database.cleanup() } }
        let masterKey = MasterKey.generate().key
        // Notifications drive the rollout: the periodic reload and the propagation interval are far longer
        // than the test, so only acknowledgements can promote.
        let policy = KeyRollout.Policy(reloadInterval: 600, propagationInterval: 600)
        var opened: [(SQLStore, Node)] = []
        for _ in 0..<3 {
            let store = try await SQLStore.open(url: database.url, sqlitePath: "", auditChain: AuditChain(key: masterKey.auditKey), keyringActor: "test")
            opened.append((store, try await Self.node(keyring: store, signingKeys: store, registry: twoPhase ? store : nil, masterKey: masterKey, policy: policy)))
        }
        let (stores, nodes) = (opened.map(\.0), opened.map(\.1))
        let loops = nodes.enumerated().map { index, node in
            Task {
                guard twoPhase else { return }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await node.rollout.run() }
                    group.addTask { try? await stores[index].listenForKeyChanges { node.rollout.wake() } }
                }
            }
        }
        let counts = LoadCounts()
        let load = (0..<6).map { worker in
            Task {
                var round = 0
                while counts.running.load(ordering: .relaxed) {
                    round += 1
                    let (writer, reader) = (nodes[(worker + round) % 3], nodes[(worker + round + 1) % 3])
                    let plaintext = Data("value \(worker) \(round)".utf8)
                    do {
                        let sealed = try await writer.cipher.seal(plaintext, context: "load/\(worker)")
                        let opened = try await reader.cipher.openOffPool(sealed.text, context: "load/\(worker)")
                        if opened.plaintext != plaintext { counts.failures.add(1, ordering: .relaxed) }
                        let token = try await writer.tokens.issue(.access, accountID: UUID(), sessionID: "s\(worker)", tokenID: "t\(round)", level: .password, now: Date())
                        _ = try await reader.tokens.verify(token, as: .access)
                    } catch {
                        counts.failures.add(1, ordering: .relaxed)
                    }
                    counts.operations.add(1, ordering: .relaxed)
                    // Steady load, not a spin: the rest of the suite runs on the same two cores.
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
        }
        let firstVersion = nodes[0].cipher.keyring.primaryVersion
        var kids: Set<String> = [try #require(await nodes[0].keys.signingKID)]
        for rotation in 0..<10 {
            try await Task.sleep(for: .milliseconds(100))
            let rotator = nodes[rotation % 3]
            _ = try await rotator.rollout.rotateFieldKey()
            try await rotator.rollout.rotateSigningKey()
            // Wait until the rotation has taken effect everywhere before the next one.
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                var everywhere = true
                for node in nodes where twoPhase {
                    let kid = await node.keys.signingKID
                    everywhere = everywhere && node.cipher.keyring.primaryVersion == firstVersion + UInt32(rotation + 1) && kid.map { !kids.contains($0) } == true
                }
                if everywhere { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            if twoPhase {
                for node in nodes {
                    #expect(node.cipher.keyring.primaryVersion == firstVersion + UInt32(rotation + 1), "rotation \(rotation + 1) did not reach every node")
                }
                kids.insert(try #require(await nodes[0].keys.signingKID))
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        counts.running.store(false, ordering: .relaxed)
        for task in load { await task.value }
        for task in loops { task.cancel() }
        for task in loops { await task.value }
        let unknownVersions = nodes.map(\.cipher.unknownVersionReloadCount).reduce(0, +)
        let unknownKIDs = nodes.map(\.keys.unknownKIDReloadCount).reduce(0, +)
        print(
            "key rollout load: two-phase \(twoPhase): \(counts.operations.load(ordering: .relaxed)) operations, \(counts.failures.load(ordering: .relaxed)) failed, unknown versions \(unknownVersions), unknown kids \(unknownKIDs)"
        )
        #expect(counts.operations.load(ordering: .relaxed) > 100)
        if twoPhase {
            #expect(counts.failures.load(ordering: .relaxed) == 0, "\(counts.failures.load(ordering: .relaxed)) of \(counts.operations.load(ordering: .relaxed)) cross-node operations failed")
            #expect(unknownVersions == 0)
            #expect(unknownKIDs == 0)
            #expect(kids.count == 11)
        } else {
            // Without the protocol, a node meets keys it has not loaded (its tokens are refused, or
            // re-read at most once every 5 s; its ciphertexts fail to open).
            #expect(counts.failures.load(ordering: .relaxed) + unknownKIDs > 0)
        }
        for store in stores { try? await store.close() }
    }
}

/// What the load of ``KeyRolloutTests`` counts, shared by its tasks.
final class LoadCounts: Sendable {
    let failures = Atomic<Int>(0)
    let operations = Atomic<Int>(0)
    let running = Atomic<Bool>(true)
}

/// A keyring store in memory that counts its reads.
final class CountingKeyringStore: KeyringStore {
    let base = MemoryKeyringStore()
    let loads = Atomic<Int>(0)

    func load() async throws -> KeyringDocument? {
        loads.add(1, ordering: .relaxed)
        return await base.load()
    }

    func update<Result: Sendable>(
        _ transform: @escaping @Sendable (inout KeyringDocument?) throws -> Result
    ) async throws -> (document: KeyringDocument?, result: Result) {
        try await base.update(transform)
    }
}
