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
        print("LoginTimingTests, against the wrong password in the same round: unknown \(medians[0]), disabled \(medians[2])")
        if !isEqualised(medians) {
            // A burst of load on a shared machine can fall on one kind more than another (once in CI:
            // unknown 13.2 ms against 14.7 ms, where local runs differ by 0-2%); measure once more before
            // failing. The bound stays the same, so a real difference fails both measurements.
            medians = await measure(attempts, fixture)
            print("LoginTimingTests, second measurement: unknown \(medians[0]), disabled \(medians[2])")
        }
        #expect(abs(medians[0] - 1) < Self.bound, "unknown user: \(medians[0]) of the wrong password's time")
        #expect(abs(medians[2] - 1) < Self.bound, "disabled account: \(medians[2]) of the wrong password's time")
    }

    /// The largest paired difference allowed, as a fraction of the wrong password's time.
    static let bound = 0.10

    func isEqualised(_ medians: [Double]) -> Bool {
        abs(medians[0] - 1) < Self.bound && abs(medians[2] - 1) < Self.bound
    }

    /// Each attempt's time against the wrong password's in the same round, the median over 150 rounds
    /// (so the wrong password's own is 1). Pairing by round takes out the machine's drift, which a
    /// difference in the work of one kind of refusal would not be: it shows in every round.
    func measure(_ attempts: [(String, String)], _ fixture: AccessFixture) async -> [Double] {
        let clock = ContinuousClock()
        var ratios: [[Double]] = [[], [], []]
        // Interleaved, in rotating order, so changes in machine load fall on all three alike.
        for round in 0..<150 {
            var seconds = [0.0, 0.0, 0.0]
            for offset in 0..<3 {
                let kind = (round + offset) % 3
                let elapsed = await clock.measure {
                    _ = try? await fixture.accounts.authenticate(username: attempts[kind].0, password: attempts[kind].1, context: adminContext)
                }
                seconds[kind] = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
            }
            for kind in 0..<3 { ratios[kind].append(seconds[kind] / seconds[1]) }
        }
        return ratios.map(median)
    }

    func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }
}
