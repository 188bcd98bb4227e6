import Foundation

/// Runs the helper scripts in `python/` (found beside this folder through `#filePath`, so the tests work
/// from any working directory and after the target is moved into another package).
enum Python {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("python")

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `python3 python/<script> arguments…` and decodes the single JSON object it prints.
    ///
    /// - Throws: ``Failure`` saying what to install when `python3` or the `cryptography` package is
    ///   missing, or with the script's standard error when it fails otherwise.
    static func json<T: Decodable>(_ type: T.Type, script: String, _ arguments: [String]) async throws -> T {
        let path = directory.appendingPathComponent(script).path
        let result = try await ExternalProcess.runOnPath("python3", [path] + arguments, timeout: .seconds(60))
        switch result.status {
        case 0 where !result.timedOut:
            do {
                return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
            } catch {
                throw Failure(description: "\(script) printed something that is not the expected JSON: \(result.stdout)")
            }
        case 127:
            throw Failure(
                description: """
                    python3 was not found on PATH. The independent certificate and TLS checks need Python 3 with \
                    the 'cryptography' package (python3 -m pip install cryptography). \(result.stderr)
                    """)
        case 3:
            throw Failure(description: "A Python package the TLS tests need is missing: \(result.stderr)")
        default:
            throw Failure(
                description: """
                    \(script) \(result.timedOut ? "timed out" : "exited with status \(result.status)"): \(result.stderr)
                    """)
        }
    }
}
