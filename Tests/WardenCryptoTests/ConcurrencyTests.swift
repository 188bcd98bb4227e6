import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// Many tasks at once: unique nonces, exact counters, one rotation when several notice it is due.
struct ConcurrencyTests {
    @Test func sixtyFourTasksSealingAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        var configuration = FieldCipher.Configuration()
        // A small reservation makes the tasks contend for the store often.
        configuration.policy = KeyringPolicy(sealReservation: 64)
        let store = FileKeyringStore(directory: directory.path)
        let cipher = try await FieldCipher.load(store: store, masterKey: testMasterKey(), configuration: configuration)
        let tasks = 64
        let perTask = 500
        let nonces = try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var nonces: [[UInt8]] = []
                    for index in 0..<perTask {
                        let plaintext = Data("task \(task) value \(index)".utf8)
                        let envelope = try await cipher.seal(plaintext, context: "t/\(task)")
                        #expect(try cipher.open(envelope, context: "t/\(task)").plaintext == plaintext)
                        nonces.append(Array(envelope.binary[6..<18]))
                    }
                    return nonces
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(nonces.count == tasks * perTask)
        #expect(Set(nonces).count == nonces.count, "a nonce repeated")
        #expect(cipher.sealCount(version: 1) == UInt64(tasks * perTask))
        let reserved = try #require(try store.load()?.versions.first?.sealsReserved)
        #expect(reserved >= UInt64(tasks * perTask))
        try await cipher.close()
        #expect(try store.load()?.versions.first?.sealsReserved == UInt64(tasks * perTask))
    }

    @Test func concurrentDueChecksRotateOnce() async throws {
        let fixture = try await CipherFixture.make()
        fixture.clock.advance(by: 31 * 86_400)
        let rotations = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<30 { group.addTask { try await fixture.cipher.rotateIfDue() } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(fixture.cipher.keyring.primaryVersion == 2)
        #expect(fixture.cipher.keyring.versions.count == 2)
        #expect(rotations.contains(true))
    }

    @Test func concurrentSealsWhenDueRotateOnce() async throws {
        let fixture = try await CipherFixture.make()
        fixture.clock.advance(by: 31 * 86_400)
        let versions = try await withThrowingTaskGroup(of: UInt32.self) { group in
            for _ in 0..<30 { group.addTask { try await fixture.cipher.seal(Data("x".utf8), context: "c").keyVersion } }
            return try await group.reduce(into: Set<UInt32>()) { $0.insert($1) }
        }
        #expect(versions == [2])
        #expect(fixture.cipher.keyring.versions.count == 2)
    }

    @Test func concurrentRotationsEachCreateOneVersion() async throws {
        let fixture = try await CipherFixture.make()
        let primaries = try await withThrowingTaskGroup(of: UInt32.self) { group in
            for _ in 0..<20 { group.addTask { try await fixture.cipher.rotate().primaryVersion } }
            return try await group.reduce(into: [UInt32]()) { $0.append($1) }
        }
        #expect(fixture.cipher.keyring.primaryVersion == 21)
        #expect(fixture.cipher.keyring.versions.map(\.version) == Array(1...21))
        #expect(primaries.count == 20)
    }

    @Test func theSealLimitHoldsUnderConcurrency() async throws {
        let fixture = try await CipherFixture.make(policy: KeyringPolicy(sealLimit: 100, sealReservation: 7))
        let versions = try await withThrowingTaskGroup(of: [UInt32].self) { group in
            for _ in 0..<25 {
                group.addTask {
                    var versions: [UInt32] = []
                    for _ in 0..<20 { versions.append(try await fixture.cipher.seal(Data("x".utf8), context: "c").keyVersion) }
                    return versions
                }
            }
            return try await group.reduce(into: [UInt32]()) { $0 += $1 }
        }
        let perVersion = Dictionary(grouping: versions, by: { $0 }).mapValues(\.count)
        #expect(versions.count == 500)
        #expect(perVersion.values.allSatisfy { $0 <= 100 })
        for (version, count) in perVersion {
            #expect(fixture.cipher.sealCount(version: version) == UInt64(count))
        }
    }
}
