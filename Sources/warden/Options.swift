import ArgumentParser
import Foundation
import WardenAccess
import WardenApp
import WardenCore
import WardenCrypto
import WardenSQL

#if canImport(Glibc)
import Glibc
import Logging
import Synchronization
#endif

/// Options every command that opens Warden's state shares.
struct KeyringOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory (env WARDEN_DATA_DIR).", valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Rotate the primary key once it is this many days old (env WARDEN_KEY_ROTATION_DAYS).", valueName: "days"))
    var rotationDays: Double?

    /// The configuration from `flags` (by variable name) and these options, then the environment, then
    /// the configuration file (`configFile`, else `WARDEN_CONFIG_FILE`), then defaults; every problem is
    /// reported at once.
    ///
    /// The original system's variables (``OriginalEnvironment``) are applied there: a note on standard
    /// error for each one set.
    func settings(
        configFile: String? = nil, flags given: [String: (value: String, flag: String)] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment, notes: (String) -> Void = { Terminal.note($0) }
    ) async throws -> Settings {
        var flags = given
        if let dataDir { flags["WARDEN_DATA_DIR"] = (dataDir, "--data-dir") }
        if let rotationDays { flags["WARDEN_KEY_ROTATION_DAYS"] = (String(rotationDays), "--rotation-days") }
        var configuration = try await WardenConfiguration.load(
            flags: flags, environment: environment, file: configFile ?? environment[WardenConfiguration.fileVariable].flatMap { $0.isEmpty ? nil : $0 }, terminal: isatty(2) == 1, notes: notes)
        // A command seals at most once: reserve one seal at a time so the stored count stays exact.
        configuration.cipher.policy.sealReservation = 1
        return configuration
    }
}

/// The command line's name for the configuration.
typealias Settings = WardenConfiguration

enum Terminal {
    /// While `warden serve` runs, its logger: warnings and notes become log lines in the configured format
    /// (a JSON-lines reader then never meets a plain line).
    static var logger: Logger? {
        get { serveLogger.withLock { $0 } }
        set { serveLogger.withLock { $0 = newValue } }
    }
    private static let serveLogger = Mutex<Logger?>(nil)

    static func warn(_ message: String) {
        if let logger { return logger.warning("\(message)") }
        FileHandle.standardError.write(Data("warden: warning: \(message)\n".utf8))
    }

    /// A line of information on standard error: `warden: note: <message>`.
    static func note(_ message: String) {
        if let logger { return logger.notice("\(message)") }
        FileHandle.standardError.write(Data("warden: note: \(message)\n".utf8))
    }

    /// Reads the first line of standard input (at most 4 KiB), without its line ending.
    static func readLine() throws -> String {
        let data = try readInput(limit: 4096)
        let text = String(decoding: data, as: UTF8.self)
        return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
    }

    /// Prints a JSON value, pretty-printed with sorted keys.
    static func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Reads standard input, refusing more than `limit` bytes before reading further.
    static func readInput(limit: Int) throws -> Data {
        var data = Data()
        while let chunk = try FileHandle.standardInput.read(upToCount: 64 * 1024), !chunk.isEmpty {
            data.append(chunk)
            guard data.count <= limit else {
                throw WardenCryptoError(.tooLarge, "the input is larger than the limit of \(limit) bytes")
            }
        }
        return data
    }
}

extension Runtime {
    /// The SQL store the command line opened (``WardenConfiguration/open(rotatingWhenDue:)`` always opens one).
    var database: SQLStore {
        guard let store else { preconditionFailure("the command line's runtime is opened from the configuration, with its SQL store") }
        return store
    }
}
