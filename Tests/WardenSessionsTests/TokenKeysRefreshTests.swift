import Foundation
import Testing
import WardenCore
import WardenCrypto

@testable import WardenSessions

/// Re-reading the signing keys: one store read for a burst of callers, and never an older key set
/// installed over a newer one.
struct TokenKeysRefreshTests {
    /// Signing keys in memory, with reads counted and, on request, held: a held read takes its snapshot
    /// first and then waits, like a slow database answering with what it saw when asked.
    actor GatedStore: SigningKeyStore {
        let inner = MemorySigningKeyStore()
        private(set) var reads = 0
        private var toHold = 0
        private var held: [CheckedContinuation<Void, Never>] = []

        /// Holds the next `count` reads until ``release()``.
        func hold(_ count: Int) { toHold = count }

        func release() {
            toHold = 0
            for read in held { read.resume() }
            held = []
        }

        var heldReads: Int { held.count }

        func signingKeys() async throws -> [SigningKeyRecord] {
            let snapshot = await inner.signingKeys()
            reads += 1
            if toHold > 0 {
                toHold -= 1
                await withCheckedContinuation { held.append($0) }
            }
            return snapshot
        }

        func addSigningKey(_ key: SigningKeyRecord, ifNoneSince: Date) async throws -> Bool {
            await inner.addSigningKey(key, ifNoneSince: ifNoneSince)
        }

        func publishSigningKey(_ key: SigningKeyRecord) async throws -> Bool {
            await inner.publishSigningKey(key)
        }

        func promoteSigningKey(kid: String, at date: Date) async throws -> Bool {
            await inner.promoteSigningKey(kid: kid, at: date)
        }

        func deleteSigningKeys(retiredBefore date: Date) async throws -> Int {
            await inner.deleteSigningKeys(retiredBefore: date)
        }
    }

    static func keys(_ store: GatedStore, clock: ManualWallClock) async throws -> TokenKeys {
        let cipher = try await FieldCipher.load(store: MemoryKeyringStore(), masterKey: SessionBackend.masterKey, clock: clock)
        let keys = TokenKeys(store: store, cipher: cipher, overlap: 86_400, clock: clock)
        try await keys.load()
        return keys
    }

    /// Polls `condition` (other tasks make it true) for at most a few seconds.
    static func eventually(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        while await !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
    }

    enum Caller: String, CaseIterable, CustomTestStringConvertible {
        case refresh, refreshIfStale
        var testDescription: String { rawValue }

        func call(_ keys: TokenKeys) async throws {
            switch self {
            case .refresh: try await keys.refresh()
            case .refreshIfStale: try await keys.refreshIfStale()
            }
        }
    }

    /// 25 callers at once while the store is slow to answer: exactly one store read, and every caller
    /// sees its result.
    @Test(arguments: Caller.allCases)
    func concurrentCallersShareOneStoreRead(_ caller: Caller) async throws {
        let clock = ManualWallClock(Date())
        let store = GatedStore()
        let keys = try await Self.keys(store, clock: clock)
        let signing = await keys.signingKID
        clock.advance(by: 60)  // past refreshIfStale's interval
        let before = await store.reads
        await store.hold(25)
        let callers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<25 { group.addTask { try await caller.call(keys) } }
                try await group.waitForAll()
            }
        }
        // Every caller has either started a read or joined one.
        try await Self.eventually { await store.reads - before + keys.joinedReads >= 25 }
        await store.release()
        try await callers.value
        #expect(await store.reads - before == 1)
        #expect(await keys.signingKID == signing)
    }

    /// A read that took its snapshot before a rotation and answers after it: the rotation's keys stay.
    @Test func aSlowReadOvertakenByARotationIsDiscarded() async throws {
        let clock = ManualWallClock(Date())
        let store = GatedStore()
        let keys = try await Self.keys(store, clock: clock)
        let old = try #require(await keys.signingKID)
        clock.advance(by: 60)
        await store.hold(1)
        let slow = Task { try await keys.refreshIfStale() }
        try await Self.eventually { await store.heldReads == 1 }  // its snapshot holds only the old key
        clock.advance(by: 1)
        try await keys.rotate()
        let new = try #require(await keys.signingKID)
        #expect(new != old)
        await store.release()
        try await slow.value
        #expect(await keys.signingKID == new)
        #expect(keys.verifier(new) != nil)
        let jwks = try JSONSerialization.jsonObject(with: await keys.jwks()) as! [String: [[String: String]]]
        #expect(Set(jwks["keys"]!.map { $0["kid"]! }) == [old, new])
    }

    /// The same race with both keys made within one clock second (rotation keeps its place by the order
    /// the reads started).
    @Test func aSlowReadOvertakenByARotationInTheSameInstantIsDiscarded() async throws {
        let clock = ManualWallClock(Date())
        let store = GatedStore()
        let keys = try await Self.keys(store, clock: clock)
        let old = try #require(await keys.signingKID)
        await store.hold(1)
        let slow = Task { try await keys.refresh() }
        try await Self.eventually { await store.heldReads == 1 }
        try await keys.rotate()
        let new = try #require(await keys.signingKID)
        #expect(new != old)
        await store.release()
        try await slow.value
        #expect(await keys.signingKID == new)
    }
}
