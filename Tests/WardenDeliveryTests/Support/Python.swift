import Foundation
import Testing

/// Finds Python and the helper scripts beside this file, and checks that the modules the tests need
/// are installed.
///
/// Tests that need Python fail, loudly, when it or a module is missing; set `WARDEN_SKIP_PYTHON=1` to
/// skip them instead.
enum Python {
    /// `Tests/WardenDeliveryTests/python`, found from this file's path so the tests work wherever the
    /// package is.
    static let scriptsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("python").path

    static func script(_ name: String) -> String { "\(scriptsDirectory)/\(name)" }

    /// False when `WARDEN_SKIP_PYTHON=1`: the tests that need Python are then skipped.
    static let isEnabled = ProcessInfo.processInfo.environment["WARDEN_SKIP_PYTHON"] != "1"

    /// `python3` on PATH, or the one `WARDEN_PYTHON` names.
    static let executable = ProcessInfo.processInfo.environment["WARDEN_PYTHON"] ?? "python3"

    private static let check = Task { () -> String? in
        let result = try? await ChildProcess.run(
            "/usr/bin/env", [executable, "-c", "import aiosmtpd, cryptography; print('ok')"])
        guard let result, result.status == 0 else {
            let detail = result.map { String(decoding: $0.stderr, as: UTF8.self) } ?? "python3 could not be started"
            return """
                The delivery tests need python3 with aiosmtpd and cryptography: \
                python3 -m pip install -r \(scriptsDirectory)/requirements.txt \
                (or set WARDEN_SKIP_PYTHON=1 to skip these tests). Python said: \(detail)
                """
        }
        return nil
    }

    /// Throws a clear error when python3, aiosmtpd or cryptography is missing.
    static func require() async throws {
        if let problem = await check.value { throw SetupError(problem) }
    }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Trait where Self == ConditionTrait {
    /// For tests that start a Python helper: skipped only when `WARDEN_SKIP_PYTHON=1`.
    static var requiresPython: Self {
        .enabled(if: Python.isEnabled, "WARDEN_SKIP_PYTHON=1 skips the tests that need Python")
    }
}
