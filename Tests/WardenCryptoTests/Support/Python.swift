import Foundation
import WardenTestSupport

/// Runs the interop script `Tests/Interop/legacy_interop.py` with the system's `python3`.
///
/// The test script installs Python's `cryptography` package; without it these tests fail and say so.
enum Python {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let (status, output, errors) = try await runProcess(
            "/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tests/Interop/legacy_interop.py").path] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        guard status == 0 else {
            throw Failure(
                description: "python3 interop script failed (is `cryptography` installed? scripts/test.sh installs it): "
                    + String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
