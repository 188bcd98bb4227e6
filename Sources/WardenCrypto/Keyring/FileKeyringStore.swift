import WardenCore

/// The embedded default keyring store: `keyring.json` (mode 0600) in the data directory.
///
/// Writers in any process serialise on an `flock` of `keyring.lock` and replace the document atomically
/// (temporary file, fsync, rename, fsync of the directory), so a crash leaves either the old or the new
/// document, never a torn one, and the CLI can rotate keys while a server is sealing with them.
public struct FileKeyringStore: KeyringStore, CustomStringConvertible {
    /// The data directory.
    public let directory: String
    /// Callers in this process queue here, first come first served; the file lock then only arbitrates
    /// between processes. (Polling the file lock alone let a burst of tasks starve one of them.)
    private let gate = AsyncMutex()

    public init(directory: String) {
        self.directory = directory
    }

    /// The document's path.
    public var documentPath: String { directory + "/keyring.json" }
    var lockPath: String { directory + "/keyring.lock" }

    /// Whether a keyring has been created in this directory.
    public var exists: Bool { SecureFile.exists(documentPath) }

    public var description: String { documentPath }

    public func load() throws -> KeyringDocument? {
        let bytes: [UInt8]?
        do {
            bytes = try SecureFile.read(documentPath)
        } catch {
            throw WardenCryptoError(.storeFailure, error.message, cause: error)
        }
        return try bytes.map { bytes throws(WardenCryptoError) in try KeyringDocument(json: bytes) }
    }

    public func update<Result: Sendable>(
        _ transform: @escaping @Sendable (inout KeyringDocument?) throws -> Result
    ) async throws -> (document: KeyringDocument?, result: Result) {
        do {
            try SecureFile.createPrivateDirectory(directory)
            return try await gate.withLock {
                try await FileLock.withExclusiveLock(lockPath) {
                    let original = try load()
                    var document = original
                    let result = try transform(&document)
                    if document != original {
                        guard let document else {
                            throw WardenCryptoError(.invalidOperation, "a keyring cannot be deleted through the store")
                        }
                        try SecureFile.replaceAtomically(documentPath, bytes: document.json(), mode: 0o600)
                    }
                    return (document, result)
                }
            }
        } catch let error as FileError {
            throw WardenCryptoError(.storeFailure, error.message, cause: error)
        }
    }
}
