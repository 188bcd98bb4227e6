import WardenCore

/// Where a loaded master key came from.
public enum MasterKeyOrigin: Sendable, Equatable {
    /// The `WARDEN_MASTER_KEY` environment variable.
    case environment
    /// The file named by `WARDEN_MASTER_KEY_FILE`.
    case file(path: String)
    /// The key file in the data directory, written by an earlier first run.
    case dataDirectory(path: String)
    /// Generated just now into the data directory (embedded development setup only).
    case generated(path: String)
}

extension MasterKey {
    /// Environment variable holding the base64 master key.
    public static let environmentVariable = "WARDEN_MASTER_KEY"
    /// Environment variable naming a file that holds the base64 master key.
    public static let fileEnvironmentVariable = "WARDEN_MASTER_KEY_FILE"
    /// Name of the generated key file inside the data directory.
    public static let dataDirectoryFileName = "master.key"

    /// Finds the master key: `WARDEN_MASTER_KEY`, else `WARDEN_MASTER_KEY_FILE`, else the key file in the
    /// data directory, else (when allowed) a newly generated one written there with mode 0600.
    ///
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - dataDirectory: The data directory of the embedded setup.
    ///   - keyringExists: Whether a keyring already exists. A new key is never generated beside an
    ///     existing keyring: it could not open anything in it.
    ///   - allowGenerate: Whether a missing key may be generated (embedded default only).
    /// - Throws: ``WardenCryptoError`` when both variables are set, a key is malformed, a key file is
    ///   missing or accessible by group or others, or no key may be generated.
    /// - Important: Key files must have mode 0600 (or stricter); broader modes are refused.
    public static func resolve(
        environment: [String: String],
        dataDirectory: String,
        keyringExists: Bool,
        allowGenerate: Bool
    ) throws(WardenCryptoError) -> (key: MasterKey, origin: MasterKeyOrigin) {
        let inline = environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment[fileEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        if inline != nil, file != nil {
            throw WardenCryptoError(.invalidMasterKey, "set only one of \(environmentVariable) and \(fileEnvironmentVariable)")
        }
        if let inline {
            return (try MasterKey(base64: inline), .environment)
        }
        if let file {
            guard let key = try readKeyFile(file, what: "master key file (\(fileEnvironmentVariable))") else {
                throw WardenCryptoError(.masterKeyMissing, "master key file \(file) (\(fileEnvironmentVariable)) does not exist")
            }
            return (key, .file(path: file))
        }
        let local = dataDirectory + "/" + dataDirectoryFileName
        if let key = try readKeyFile(local, what: "master key file") {
            return (key, .dataDirectory(path: local))
        }
        guard allowGenerate else {
            throw WardenCryptoError(.masterKeyMissing, "no master key: set \(environmentVariable) or \(fileEnvironmentVariable)")
        }
        guard !keyringExists else {
            throw WardenCryptoError(
                .masterKeyMissing,
                "a keyring exists in \(dataDirectory) but its master key is missing; refusing to generate a new one. "
                    + "Set \(environmentVariable) or \(fileEnvironmentVariable), or restore \(local)")
        }
        let generated = MasterKey.generate()
        do {
            try SecureFile.createPrivateDirectory(dataDirectory)
            if try SecureFile.createExclusively(local, bytes: Array((generated.base64 + "\n").utf8), mode: 0o600) {
                return (generated.key, .generated(path: local))
            }
        } catch {
            throw WardenCryptoError(.storeFailure, "could not write the generated master key: \(error.message)", cause: error)
        }
        // Another process generated it first: use theirs.
        guard let key = try readKeyFile(local, what: "master key file") else {
            throw WardenCryptoError(.masterKeyMissing, "master key file \(local) disappeared while starting")
        }
        return (key, .dataDirectory(path: local))
    }

    private static func readKeyFile(_ path: String, what: String) throws(WardenCryptoError) -> MasterKey? {
        let bytes: [UInt8]
        do {
            guard let read = try SecureFile.read(path) else { return nil }
            try SecureFile.requireOwnerOnly(path, what: what)
            bytes = read
        } catch {
            throw WardenCryptoError(.invalidMasterKey, error.message, cause: error)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw WardenCryptoError(.invalidMasterKey, "\(what) \(path) does not hold base64 text")
        }
        do {
            return try MasterKey(base64: text)
        } catch {
            throw WardenCryptoError(error.code, "\(what) \(path): \(error.message)")
        }
    }
}
