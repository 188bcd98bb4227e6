import Crypto
import CryptoExtras
import Foundation
public import WardenCore

/// Hashes and verifies passwords with scrypt, away from Swift's cooperative thread pool.
///
/// Hashing takes a large, deliberate amount of time and memory; run on the cooperative pool (or on
/// Dispatch, which shares its threads on Linux) it would stall every other task. Hashes run on dedicated
/// threads instead, which also bounds memory: N = 2^17, r = 8 needs 128 MiB per hash in flight.
///
/// A server gives its hasher threads of its own, at most half the processors by default
/// (``defaultThreadCount``), and a bounded queue: a hash or verification offered while every thread is
/// busy and the queue is full fails at once with ``WardenCryptoError/busy``, so a login storm is shed
/// instead of taking the processors (and the latency of every other request) with it.
///
/// Passwords are normalised to Unicode NFKC before scrypt (NIST SP 800-63B §5.1.1.2), so the same
/// password typed on different keyboards verifies. The original system's hashes are verified on the
/// password's UTF-8 bytes as given, as the original did.
///
/// - Important: Verification compares in constant time. For a login with an unknown account, call
///   ``verifyNothing()`` so the response takes as long as a wrong password; it goes through the same
///   threads and queue, so a full queue refuses it exactly as it refuses a real verification.
public final class PasswordHasher: Sendable {
    /// The result of a verification.
    public enum Verification: Sendable, Equatable {
        /// The password matches; `needsRehash` when the stored hash uses another scheme or other parameters.
        case valid(needsRehash: Bool)
        case invalid
    }

    public let parameters: ScryptParameters
    private let threads: WorkerThreads
    private let dummy: PasswordHash

    /// The threads hashers share unless given threads of their own; the legacy readers' PBKDF2
    /// derivations run on them too. One per processor, with no queue limit.
    static let sharedThreads = WorkerThreads(count: ProcessInfo.processInfo.activeProcessorCount, name: "warden-kdf")

    /// Half the processors, at least one: the default concurrency of a server's hasher, which leaves the
    /// other half to everything else while logins pour in.
    public static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    /// - Parameters:
    ///   - parameters: scrypt parameters for new hashes (default OWASP's).
    ///   - maxConcurrent: hashes computed at once, on threads of this hasher's own (default with
    ///     `maxQueued`: ``defaultThreadCount``; with neither: the process-wide threads, one per processor).
    ///   - maxQueued: hashes that may wait for a thread; past it, ``hash(_:)``, ``verify(_:against:)`` and
    ///     ``verifyNothing()`` throw ``WardenCryptoError/busy`` (default: no limit).
    public convenience init(parameters: ScryptParameters = .owasp, maxConcurrent: Int? = nil, maxQueued: Int? = nil) {
        let threads =
            maxConcurrent == nil && maxQueued == nil
            ? Self.sharedThreads
            : WorkerThreads(count: maxConcurrent ?? Self.defaultThreadCount, queueLimit: maxQueued, name: "warden-password")
        self.init(parameters: parameters, threads: threads)
    }

    /// A hasher on the given threads (their `count` and `queueLimit` bound it).
    public init(parameters: ScryptParameters = .owasp, threads: WorkerThreads) {
        precondition(parameters.isWithinBounds, "scrypt parameters out of bounds")
        self.parameters = parameters
        self.threads = threads
        // A hash of a random password: verifying against it costs what a real verification costs.
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        dummy = .scrypt(parameters, salt: salt, hash: [UInt8](repeating: 0, count: 32))
    }

    /// Hashes computed at once.
    public var maxConcurrent: Int { threads.count }
    /// Hashes that may wait for a thread (`nil`: no limit).
    public var maxQueued: Int? { threads.queueLimit }
    /// Hashes running or waiting now.
    public var load: Int { threads.load }

    /// Hashes `password` with a fresh 16-byte salt; returns the stored string.
    ///
    /// - Throws: ``WardenCryptoError/busy`` when the queue is full.
    public func hash(_ password: String) async throws -> String {
        let parameters = parameters
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
        let normalized = Self.normalize(password)
        let hash = try await run { try Self.scrypt(normalized, salt: salt, parameters: parameters, length: 32) }.get()
        return PasswordHash.scrypt(parameters, salt: salt, hash: hash).string
    }

    /// Verifies `password` against a stored string. An unparsable string never verifies (but costs the
    /// same time as a wrong password).
    ///
    /// - Throws: ``WardenCryptoError/busy`` when the queue is full, and nothing else: the password was not
    ///   checked, and the refusal says nothing about it (or about the stored hash).
    public func verify(_ password: String, against stored: String) async throws -> Verification {
        guard let parsed = PasswordHash(stored) else {
            try await verifyNothing()
            return .invalid
        }
        let parameters = parameters
        switch parsed {
        case .scrypt(let storedParameters, let salt, let expected):
            let normalized = Self.normalize(password)
            let derived = try await run { try Self.scrypt(normalized, salt: salt, parameters: storedParameters, length: expected.count) }
            guard case .success(let actual) = derived else { return .invalid }
            return constantTimeEqual(actual, expected) ? .valid(needsRehash: storedParameters != parameters) : .invalid
        case .legacyPBKDF2(let iterations, let salt, let expected):
            let bytes = Array(password.utf8)
            let derived = try await run {
                try KDF.Insecure.PBKDF2.deriveKey(
                    from: bytes, salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations
                ).withUnsafeBytes { Array($0) }
            }
            guard case .success(let actual) = derived else { return .invalid }
            return constantTimeEqual(actual, expected) ? .valid(needsRehash: true) : .invalid
        case .legacyPBKDF2HexSalt(let iterations, let saltHex, let expected):
            let bytes = Array(password.utf8)
            let salts = [Hex.decode(saltHex) ?? [], Array(saltHex.utf8)]
            // Both readings, always: the time must not tell which one the account uses.
            let derived = try await run {
                try salts.map { salt in
                    try KDF.Insecure.PBKDF2.deriveKey(
                        from: bytes, salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations
                    ).withUnsafeBytes { Array($0) }
                }
            }
            guard case .success(let actual) = derived else { return .invalid }
            let raw = constantTimeEqual(actual[0], expected)
            let text = constantTimeEqual(actual[1], expected)
            return raw || text ? .valid(needsRehash: true) : .invalid
        }
    }

    /// Spends the time of one verification at the current parameters, for logins with no account.
    ///
    /// - Throws: ``WardenCryptoError/busy`` when the queue is full, as a real verification would.
    public func verifyNothing() async throws {
        _ = try await verify("", against: dummy.string)
    }

    static func normalize(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    static func scrypt(_ password: String, salt: [UInt8], parameters: ScryptParameters, length: Int) throws -> [UInt8] {
        try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << parameters.logN,
            blockSize: parameters.blockSize, parallelism: parameters.parallelism,
            maxMemory: parameters.memoryBytes + (1 << 20)
        ).withUnsafeBytes { Array($0) }
    }

    /// Runs `work` on the threads. What `work` throws comes back as a failure; only a full queue throws.
    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> Result<T, any Error> {
        do {
            return try await threads.run { Result { try work() } }
        } catch is WorkerThreads.Saturated {
            throw WardenCryptoError.busy
        }
    }
}
