import Foundation
import Testing
import WardenAccess
import WardenCrypto

/// An unknown user, a wrong password and a disabled account cost the same time.
@Suite(.serialized)
struct LoginTimingTests {
    @Test func unknownUserWrongPasswordAndDisabledAccountTakeTheSameTime() async throws {
        // 2^10 keeps one verification (in a debug build) at tens of milliseconds: long enough to dominate
        // the noise of a shared machine, short enough for a few hundred attempts.
        let fixture = try await AccessFixture.make(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)) {
            $0.loginPolicy = LoginPolicy(lockThreshold: 1_000_000)
        }
        _ = try await fixture.accounts.create(username: "ada", password: "correct horse battery staple", context: adminContext)
        let disabled = try await fixture.accounts.create(username: "bob", password: "correct horse battery staple", context: adminContext)
        _ = try await fixture.accounts.setStatus(id: disabled.id, to: .disabled, context: adminContext)

        let attempts = [("nobody", "correct horse battery staple"), ("ada", "not the right passphrase"), ("bob", "correct horse battery staple")]
        var medians = await measure(attempts, fixture)
        print("LoginTimingTests: unknown \(medians[0]) s, wrong password \(medians[1]) s, disabled \(medians[2]) s")
        if !isEqualised(medians) {
            // A burst of load on a shared machine can fall on one kind more than another (once in CI:
            // unknown 13.2 ms against 14.7 ms, where local runs differ by 0-2%); measure once more before
            // failing. The bound stays the same, so a real difference fails both measurements.
            medians = await measure(attempts, fixture)
            print("LoginTimingTests, second measurement: unknown \(medians[0]) s, wrong password \(medians[1]) s, disabled \(medians[2]) s")
        }
        let (u, w, d) = (medians[0], medians[1], medians[2])
        #expect(abs(u - w) / w < Self.bound, "unknown \(u) s vs wrong password \(w) s")
        #expect(abs(d - w) / w < Self.bound, "disabled \(d) s vs wrong password \(w) s")
    }

    /// The largest difference of medians allowed, as a fraction of the wrong password's median.
    static let bound = 0.10

    func isEqualised(_ medians: [Double]) -> Bool {
        abs(medians[0] - medians[1]) / medians[1] < Self.bound && abs(medians[2] - medians[1]) / medians[1] < Self.bound
    }

    /// The median time of each attempt over 150 rounds.
    func measure(_ attempts: [(String, String)], _ fixture: AccessFixture) async -> [Double] {
        let clock = ContinuousClock()
        var samples: [[Double]] = [[], [], []]
        // Interleaved, in rotating order, so changes in machine load fall on all three alike.
        for round in 0..<150 {
            for offset in 0..<3 {
                let kind = (round + offset) % 3
                let elapsed = await clock.measure {
                    _ = try? await fixture.accounts.authenticate(username: attempts[kind].0, password: attempts[kind].1, context: adminContext)
                }
                samples[kind].append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
            }
        }
        return samples.map(median)
    }

    func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }
}
