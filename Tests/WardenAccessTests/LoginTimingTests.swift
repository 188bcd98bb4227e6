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

        let clock = ContinuousClock()
        let attempts = [("nobody", "correct horse battery staple"), ("ada", "not the right passphrase"), ("bob", "correct horse battery staple")]
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
        let (u, w, d) = (median(samples[0]), median(samples[1]), median(samples[2]))
        #expect(abs(u - w) / w < 0.10, "unknown \(u) s vs wrong password \(w) s")
        #expect(abs(d - w) / w < 0.10, "disabled \(d) s vs wrong password \(w) s")
    }

    func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }
}
