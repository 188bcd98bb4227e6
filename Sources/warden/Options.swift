import ArgumentParser
import Foundation
import WardenAccess
import WardenCore
import WardenCrypto

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

    /// The settings from flags, then the environment, then defaults.
    ///
    /// The original system's variables (``OriginalEnvironment``) are read here and nowhere else: a note on
    /// standard error for each one set, then its value in place of the Warden variable it stands in for,
    /// where it has one and that is unset. The returned settings carry that environment.
    func settings(environment given: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        for note in OriginalEnvironment.notes(for: given) { Terminal.note(note) }
        let environment = OriginalEnvironment.applyingFallbacks(to: given)
        let dataDirectory = dataDir ?? environment["WARDEN_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./.warden"
        var configuration = FieldCipher.Configuration()
        let days = try rotationDays ?? number("WARDEN_KEY_ROTATION_DAYS", environment) ?? 30
        guard days > 0, days <= 3650 else { throw ValidationError("the rotation period must be between 1 second and 3650 days") }
        configuration.policy.rotationPeriod = days * 86_400
        if let limit = try number("WARDEN_SEAL_LIMIT", environment) {
            guard limit >= 1, limit <= Double(1 << 32) else { throw ValidationError("WARDEN_SEAL_LIMIT must be between 1 and 2^32") }
            configuration.policy.sealLimit = UInt64(limit)
        }
        if let maximum = try number("WARDEN_MAX_PLAINTEXT_BYTES", environment) {
            guard maximum >= 1, maximum <= Double(1 << 30) else { throw ValidationError("WARDEN_MAX_PLAINTEXT_BYTES must be between 1 and 2^30") }
            configuration.maxPlaintextBytes = Int(maximum)
        }
        configuration.legacyKeys = try LegacyKeys.fromEnvironment(environment)
        // A command seals at most once: reserve one seal at a time so the stored count stays exact.
        configuration.policy.sealReservation = 1
        var accounts = AccountService.Configuration()
        if let minimum = try number("WARDEN_PASSWORD_MIN_LENGTH", environment) {
            guard minimum >= 8, minimum <= 128 else { throw ValidationError("WARDEN_PASSWORD_MIN_LENGTH must be between 8 and 128") }
            accounts.passwordPolicy = PasswordPolicy(minimumLength: Int(minimum))
        }
        if let sensitive = environment["WARDEN_SEAL_EMAILS"], !sensitive.isEmpty {
            guard ["true", "false"].contains(sensitive) else { throw ValidationError("WARDEN_SEAL_EMAILS must be true or false") }
            accounts.emailsAreSensitive = sensitive == "true"
        }
        var scrypt = ScryptParameters.owasp
        if let logN = try number("WARDEN_SCRYPT_LOG_N", environment) { scrypt.logN = Int(logN) }
        if let r = try number("WARDEN_SCRYPT_R", environment) { scrypt.blockSize = Int(r) }
        if let p = try number("WARDEN_SCRYPT_P", environment) { scrypt.parallelism = Int(p) }
        guard scrypt.isWithinBounds else {
            throw ValidationError("scrypt parameters out of bounds (log2 N 10–22, r 1–32, p 1–16, at most 1 GiB)")
        }
        var hashing = Settings.PasswordHashing()
        if let threads = try number("WARDEN_PASSWORD_HASH_THREADS", environment) {
            guard threads >= 1, threads <= 256, threads == threads.rounded() else { throw ValidationError("WARDEN_PASSWORD_HASH_THREADS must be a whole number, 1–256") }
            hashing.threads = Int(threads)
        }
        if let queue = try number("WARDEN_PASSWORD_HASH_QUEUE", environment) {
            guard queue >= 0, queue <= 100_000, queue == queue.rounded() else { throw ValidationError("WARDEN_PASSWORD_HASH_QUEUE must be a whole number, 0–100000") }
            hashing.queue = Int(queue)
        }
        let databaseURL = environment["WARDEN_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        // The original kept a version usable for twice the rotation period (its "grace period").
        let graceDays = try number("WARDEN_KEY_GRACE_DAYS", environment) ?? 2 * days
        guard graceDays >= 0, graceDays <= 3650 else { throw ValidationError("WARDEN_KEY_GRACE_DAYS must be between 0 and 3650") }
        var settings = Settings(
            dataDirectory: dataDirectory, databaseURL: databaseURL, configuration: configuration,
            accounts: accounts, scrypt: scrypt, passwordHashing: hashing, environment: environment)
        settings.keyGrace = graceDays * 86_400
        return settings
    }

    private func number(_ name: String, _ environment: [String: String]) throws -> Double? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let value = Double(text), value.isFinite else { throw ValidationError("\(name) must be a number") }
        return value
    }
}

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
