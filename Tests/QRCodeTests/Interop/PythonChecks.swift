import Foundation
import Testing
import WardenTestSupport

/// Runs `python/qr_check.py`, the independent checks (zxing-cpp, segno, Pillow) the interop tests use.
///
/// The script is found next to this file through `#filePath`, so the tests work from any working
/// directory. Python comes from `PATH` (`python3`), or from `QR_PYTHON` when that is set. When Python or
/// one of its modules is missing the tests fail with the install command; set `WARDEN_SKIP_PYTHON=1` to
/// skip them instead (for machines that cannot install the packages, never for CI).
enum PythonChecks {
    /// Whether the interop suites are switched off by `WARDEN_SKIP_PYTHON=1`.
    static let skipped = ProcessInfo.processInfo.environment["WARDEN_SKIP_PYTHON"] == "1"

    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("python/qr_check.py")
        .path

    /// A failed run of the script, with everything needed to see why.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `qr_check.py` with `arguments`, feeding `input`, and returns its standard output.
    ///
    /// - Throws: ``Failure`` when Python cannot be started or the script exits non-zero; the message
    ///   says how to install what is missing.
    static func run(_ arguments: [String], input: Data = Data()) async throws -> Data {
        let python = ProcessInfo.processInfo.environment["QR_PYTHON"] ?? "python3"
        let result = try await runProcess("/usr/bin/env", [python, script] + arguments, input: input)
        let errors = String(decoding: result.stderr, as: UTF8.self)
        switch result.status {
        case 0:
            return result.stdout
        case 127:
            throw Failure(
                description: """
                    '\(python)' was not found on PATH. The QR interop tests need Python 3 with zxing-cpp, segno and \
                    pillow: pip install -r scripts/requirements-test.txt, as scripts/test.sh does (or set WARDEN_SKIP_PYTHON=1 to skip them). \(errors)
                    """)
        case 3:
            throw Failure(description: "A Python module the QR interop tests need is missing: \(errors)")
        default:
            throw Failure(
                description: "qr_check.py \(arguments.prefix(2).joined(separator: " ")) "
                    + "exited with status \(result.status): \(errors)")
        }
    }

    /// Runs the script and decodes its single JSON object.
    static func json<T: Decodable>(_ type: T.Type, _ arguments: [String], input: Data = Data()) async throws -> T {
        try JSONDecoder().decode(T.self, from: try await run(arguments, input: input))
    }

    /// Runs the script and decodes one JSON object per output line.
    static func jsonLines<T: Decodable>(
        _ type: T.Type, _ arguments: [String], input: Data = Data()
    ) async throws -> [T] {
        let output = try await run(arguments, input: input)
        return try output.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// A fresh directory for one test's files, removed by `body`'s end.
    static func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("qrcode-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }
}
