/// Where the keyring document lives.
///
/// The embedded default is ``FileKeyringStore`` (a file in the data directory); the persistence layer
/// adds SQL stores, and ``MemoryKeyringStore`` serves tests. Implementations persist the document as an
/// opaque value: they need no cryptography, and the document's own MAC detects tampering at rest.
public protocol KeyringStore: Sendable {
    /// The current document, or `nil` if no keyring has been created.
    func load() async throws -> KeyringDocument?

    /// Changes the document atomically with respect to every other writer, in this process or another.
    ///
    /// The store reads the current document under an exclusive lock, passes it to `transform`, and writes
    /// the document `transform` leaves behind if it differs from what was read.
    ///
    /// - Returns: The document in effect afterwards, and what `transform` returned.
    func update<Result: Sendable>(
        _ transform: @escaping @Sendable (inout KeyringDocument?) throws -> Result
    ) async throws -> (document: KeyringDocument?, result: Result)
}

/// A keyring store in memory, for tests and for programs that bring their own persistence.
public actor MemoryKeyringStore: KeyringStore {
    private var document: KeyringDocument?
    /// How many times the document was written.
    public private(set) var writeCount = 0

    public init(document: KeyringDocument? = nil) {
        self.document = document
    }

    public func load() -> KeyringDocument? { document }

    public func update<Result: Sendable>(
        _ transform: @escaping @Sendable (inout KeyringDocument?) throws -> Result
    ) throws -> (document: KeyringDocument?, result: Result) {
        var changed = document
        let result = try transform(&changed)
        if changed != document {
            document = changed
            writeCount += 1
        }
        return (document, result)
    }

    /// Replaces the stored document as an attacker or a broken backup might: no checks.
    public func overwrite(_ document: KeyringDocument?) {
        self.document = document
    }
}
