import ArgumentParser
import Foundation
import WardenCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Options every command that opens the keyring shares.
struct KeyringOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data directory (env WARDEN_DATA_DIR).", valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Rotate the primary key once it is this many days old (env WARDEN_KEY_ROTATION_DAYS).", valueName: "days"))
    var rotationDays: Double?

    /// The settings from flags, then the environment, then defaults.
    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
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
        return Settings(dataDirectory: dataDirectory, configuration: configuration, environment: environment)
    }

    private func number(_ name: String, _ environment: [String: String]) throws -> Double? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let value = Double(text), value.isFinite else { throw ValidationError("\(name) must be a number") }
        return value
    }
}

struct Settings {
    let dataDirectory: String
    var configuration: FieldCipher.Configuration
    let environment: [String: String]

    /// Loads the keyring, generating a master key in the data directory on the very first run.
    func loadCipher(rotatingWhenDue: Bool = true) async throws -> FieldCipher {
        let store = FileKeyringStore(directory: dataDirectory)
        let (masterKey, origin) = try MasterKey.resolve(
            environment: environment, dataDirectory: dataDirectory, keyringExists: store.exists, allowGenerate: true)
        // Child processes must not inherit the key.
        unsetenv(MasterKey.environmentVariable)
        if case .generated(let path) = origin {
            Terminal.warn("""
                no master key configured: generated one at \(path) (mode 0600). This is a development setup: \
                back the key up, and in production set \(MasterKey.environmentVariable) or \(MasterKey.fileEnvironmentVariable).
                """)
        }
        var configuration = configuration
        configuration.rotatesWhenDue = rotatingWhenDue
        return try await FieldCipher.load(store: store, masterKey: masterKey, configuration: configuration)
    }
}

enum Terminal {
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warden: warning: \(message)\n".utf8))
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
