import Dispatch
import Foundation
import Synchronization
import Testing
import WardenCore
import WardenCrypto
import WardenTestSupport

/// The hashing pool's bound: a full queue refuses at once, refuses everything alike, and frees its places.
struct PasswordHashingLoadTests {
    static let cheap = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)

    @Test func aFullQueueRefusesAtOnceWithoutRunningTheJob() async throws {
        let threads = WorkerThreads(count: 1, queueLimit: 2, name: "test-bounded")
        let hold = try await ThreadsHold(threads, slots: 3)
        let ran = Tally()
        await #expect(throws: WorkerThreads.Saturated()) { try await threads.run { ran.add() } }
        #expect(threads.load == 3)
        await hold.release()
        #expect(ran.count == 0)
        // Every place is free once the held jobs have returned: the next job runs.
        #expect(threads.load == 0)
        #expect(try await threads.run { 42 } == 42)
    }

    @Test func withoutALimitJobsWait() async throws {
        let threads = WorkerThreads(count: 1, name: "test-unbounded")
        let hold = try await ThreadsHold(threads, slots: 50)
        let late = Task { try await threads.run { "ran" } }
        await hold.release()
        #expect(try await late.value == "ran")
    }

    /// 25 callers at once against 1 thread and a queue of 3: exactly 4 are taken, 21 refused.
    @Test func concurrentOffersTakeExactlyTheFreePlaces() async throws {
        let threads = WorkerThreads(count: 1, queueLimit: 3, name: "test-race")
        let gate = DispatchSemaphore(value: 0)
        let refused = Tally()
        let outcomes = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<25 {
                    group.addTask {
                        do {
                            try await threads.run { gate.wait() }
                            return true
                        } catch {
                            refused.add()
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        // The refusals come back while the gate is still shut: they never waited for a place.
        var polls = 0
        while refused.count + threads.load < 25, polls < 10_000 {
            try await Task.sleep(for: .milliseconds(1))
            polls += 1
        }
        #expect(threads.load == 4)
        #expect(refused.count == 21)
        for _ in 0..<4 { gate.signal() }
        let results = await outcomes.value
        #expect(results.filter { $0 }.count == 4)
        #expect(results.filter { !$0 }.count == 21)
    }

    @Test func hashVerifyAndTheDummyVerificationAreRefusedAlike() async throws {
        let threads = WorkerThreads(count: 1, queueLimit: 0, name: "test-hasher")
        let hasher = PasswordHasher(parameters: Self.cheap, threads: threads)
        let stored = try await hasher.hash("correct horse battery staple")
        let hold = try await ThreadsHold(threads, slots: 1)
        await #expect(throws: WardenCryptoError.busy) { try await hasher.hash("another passphrase") }
        await #expect(throws: WardenCryptoError.busy) { try await hasher.verify("correct horse battery staple", against: stored) }
        await #expect(throws: WardenCryptoError.busy) { try await hasher.verify("wrong", against: stored) }
        await #expect(throws: WardenCryptoError.busy) { try await hasher.verify("anything", against: "not a hash") }
        await #expect(throws: WardenCryptoError.busy) { try await hasher.verifyNothing() }
        await hold.release()
        #expect(try await hasher.verify("correct horse battery staple", against: stored) == .valid(needsRehash: false))
        #expect(try await hasher.verify("wrong", against: stored) == .invalid)
    }

    @Test func aServersHasherDefaultsToHalfTheProcessors() {
        let hasher = PasswordHasher(parameters: Self.cheap, maxQueued: 8)
        #expect(PasswordHasher.defaultThreadCount == max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
        #expect(hasher.maxConcurrent == PasswordHasher.defaultThreadCount)
        #expect(hasher.maxQueued == 8)
        // Without either bound: the process-wide threads, whose callers wait.
        #expect(PasswordHasher(parameters: Self.cheap).maxQueued == nil)
    }
}

/// A counter tasks and worker threads may share.
final class Tally: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
