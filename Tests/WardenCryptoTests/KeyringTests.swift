import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// Key versions, states, rotation, retirement and the grace period.
struct KeyringTests {
    let context = "accounts/phone/7"

    @Test func aNewKeyringHasOnePrimaryVersion() async throws {
        let fixture = try await CipherFixture.make()
        let keyring = fixture.cipher.keyring
        #expect(keyring.primaryVersion == 1)
        #expect(keyring.minimumDecryptionVersion == 1)
        #expect(keyring.versions.map(\.state) == [.primary])
        #expect(keyring.primary.created == fixture.clock.now())
    }

    @Test func rotateAlwaysCreatesANewPrimaryEvenForAFreshKey() async throws {
        let fixture = try await CipherFixture.make()
        for expected in UInt32(2)...5 {
            let keyring = try await fixture.cipher.rotate()
            #expect(keyring.primaryVersion == expected)
        }
        #expect(fixture.cipher.keyring.versions.map(\.state) == [.active, .active, .active, .active, .primary])
    }

    @Test func rotationRoundTripWithGracePeriodAndRetirement() async throws {
        let fixture = try await CipherFixture.make()
        let v1 = try await fixture.cipher.seal(Data("one".utf8), context: context)
        try await fixture.cipher.rotate()
        let v2 = try await fixture.cipher.seal(Data("two".utf8), context: context)
        #expect(v1.keyVersion == 1)
        #expect(v2.keyVersion == 2)
        // Grace period: both open; the old one says it needs rewrapping.
        let opened1 = try fixture.cipher.open(v1, context: context)
        #expect(opened1.plaintext == Data("one".utf8))
        #expect(opened1.source == .envelope(keyVersion: 1))
        #expect(opened1.needsRewrap)
        #expect(try !fixture.cipher.open(v2, context: context).needsRewrap)

        // Rewrap moves v1 data to v2 without the caller seeing plaintext.
        let rewrapped = try await fixture.cipher.rewrap(v1.binary, context: context)
        #expect(rewrapped.keyVersion == 2)
        #expect(try fixture.cipher.open(rewrapped, context: context).plaintext == Data("one".utf8))
        // Rewrap still checks the context.
        await #expect(throws: WardenCryptoError.decryptionFailed) { try await fixture.cipher.rewrap(v1.binary, context: "other") }

        try await fixture.cipher.retire(below: 2)
        let error = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(v1, context: context) }
        #expect(error.code == .retiredKeyVersion)
        #expect(error.message.contains("retired"))
        #expect(try fixture.cipher.open(v2, context: context).plaintext == Data("two".utf8))
        #expect(fixture.cipher.keyring.versions.map(\.state) == [.retired, .primary])
        // Retired keys are not held in memory.
        #expect(fixture.cipher.keyring.dataKeys[1] == nil)
    }

    @Test func retiringThePrimaryIsRefused() async throws {
        let fixture = try await CipherFixture.make()
        try await fixture.cipher.rotate()
        for below in [UInt32(3), 7] {
            let error = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.retire(below: below) }
            #expect(error.code == .invalidOperation)
        }
        // Retiring below the primary itself is allowed: everything older goes.
        try await fixture.cipher.retire(below: 2)
        // `retire` only raises the floor.
        let lower = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.retire(below: 1) }
        #expect(lower.code == .invalidOperation)
    }

    @Test func restoreBringsRetiredVersionsBackUnlessDestroyed() async throws {
        let fixture = try await CipherFixture.make()
        let v1 = try await fixture.cipher.seal(Data("one".utf8), context: context)
        try await fixture.cipher.rotate()
        let v2 = try await fixture.cipher.seal(Data("two".utf8), context: context)
        try await fixture.cipher.rotate()
        try await fixture.cipher.retire(below: 3)
        try await fixture.cipher.restore(from: 2)
        #expect(try fixture.cipher.open(v2, context: context).plaintext == Data("two".utf8))
        #expect(throws: WardenCryptoError.self) { try fixture.cipher.open(v1, context: context) }

        // Destroying is only for retired versions.
        let notRetired = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.destroy(version: 2) }
        #expect(notRetired.code == .invalidOperation)
        try await fixture.cipher.destroy(version: 1)
        #expect(fixture.cipher.keyring.info(for: 1)?.state == .destroyed)
        #expect(fixture.cipher.keyring.info(for: 1)?.destroyed != nil)
        let gone = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(v1, context: context) }
        #expect(gone.code == .destroyedKeyVersion)
        let cannotRestore = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.restore(from: 1) }
        #expect(cannotRestore.code == .invalidOperation)
        #expect(await fixture.store.load()?.versions.first?.wrappedKey == nil)
    }

    @Test func scheduledRotationWhenThePrimaryIsOlderThanThePeriod() async throws {
        let fixture = try await CipherFixture.make()
        #expect(try await !fixture.cipher.rotateIfDue())
        fixture.clock.advance(by: 29 * 86_400)
        #expect(try await !fixture.cipher.rotateIfDue())
        fixture.clock.advance(by: 86_400)
        #expect(try await fixture.cipher.rotateIfDue())
        #expect(fixture.cipher.keyring.primaryVersion == 2)
        #expect(try await !fixture.cipher.rotateIfDue())
    }

    @Test func aDueKeyRotatesOnLoadAndOnSeal() async throws {
        let store = MemoryKeyringStore()
        let clock = ManualWallClock()
        _ = try await CipherFixture.make(store: store, clock: clock)
        clock.advance(by: 31 * 86_400)
        let reloaded = try await CipherFixture.make(store: store, clock: clock)
        #expect(reloaded.cipher.keyring.primaryVersion == 2)

        clock.advance(by: 31 * 86_400)
        let sealed = try await reloaded.cipher.seal(Data("x".utf8), context: context)
        #expect(sealed.keyVersion == 3)
    }

    @Test func theSealLimitForcesRotation() async throws {
        let fixture = try await CipherFixture.make(policy: KeyringPolicy(sealLimit: 10, sealReservation: 4))
        var versions: [UInt32] = []
        for _ in 0..<25 {
            versions.append(try await fixture.cipher.seal(Data("x".utf8), context: context).keyVersion)
        }
        #expect(versions == Array(repeating: 1, count: 10) + Array(repeating: 2, count: 10) + Array(repeating: 3, count: 5))
        let keyring = fixture.cipher.keyring
        #expect(keyring.info(for: 1)?.sealCount == 10)
        #expect(keyring.info(for: 2)?.sealCount == 10)
        // Data sealed under the exhausted versions still opens.
        #expect(keyring.versions.map(\.state) == [.active, .active, .primary])
    }

    @Test func theMaintenanceLoopRotatesWhenDue() async throws {
        let fixture = try await CipherFixture.make()
        let ticks = ManualClock()
        let loop = Task { try await fixture.cipher.runMaintenance(every: .seconds(60), clock: ticks) }
        defer { loop.cancel() }
        func tick() async {
            while ticks.sleeperCount == 0 { await Task.yield() }
            ticks.advance(by: .seconds(60))
            // Wait until the loop has finished this round and sleeps again.
            while ticks.sleeperCount == 0 { await Task.yield() }
        }
        await tick()
        #expect(fixture.cipher.keyring.primaryVersion == 1)
        fixture.clock.advance(by: 30 * 86_400 + 1)
        await tick()
        #expect(fixture.cipher.keyring.primaryVersion == 2)
        loop.cancel()
        await #expect(throws: CancellationError.self) { try await loop.value }
    }

    @Test func anotherProcessesChangesArePickedUp() async throws {
        let store = MemoryKeyringStore()
        let clock = ManualWallClock()
        let first = try await CipherFixture.make(store: store, clock: clock)
        let second = try await CipherFixture.make(store: store, clock: clock)
        try await first.cipher.rotate()
        let sealed = try await first.cipher.seal(Data("x".utf8), context: context)
        // The second has not looked yet.
        let unknown = try #require(throws: WardenCryptoError.self) { try second.cipher.open(sealed, context: context) }
        #expect(unknown.code == .unknownKeyVersion)
        try await second.cipher.refresh()
        #expect(try second.cipher.open(sealed, context: context).plaintext == Data("x".utf8))
    }
}
