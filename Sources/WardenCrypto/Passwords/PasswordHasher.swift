import Crypto
import CryptoExtras
import Foundation
import WardenCore

/// Hashes and verifies passwords with scrypt, away from Swift's cooperative thread pool.
///
/// Hashing takes a large, deliberate amount of time and memory; run on the cooperative pool (or on
/// Dispatch, which shares its threads on Linux) it would stall every other task. Hashes run on dedicated
/// threads instead, one per processor by default, which also bounds memory: N = 2^17, r = 8 needs
/// 128 MiB per hash in flight.
///
/// Passwords are normalised to Unicode NFKC before scrypt (NIST SP 800-63B §5.1.1.2), so the same
/// password typed on different keyboards verifies. The original system's hashes are verified on the
/// password's UTF-8 bytes as given, as the original did.
///
/// - Important: Verification compares in constant time. For a login with an unknown account, call
///   ``verifyNothing()`` so the response takes as long as a wrong password.
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

    /// The threads hashers share unless given a concurrency of their own; the legacy readers' PBKDF2
    /// derivations run on them too, so all of WardenCrypto's deliberately slow work shares one bound.
    static let sharedThreads = WorkerThreads(count: ProcessInfo.processInfo.activeProcessorCount, name: "warden-kdf")

    /// - Parameters:
    ///   - parameters: scrypt parameters for new hashes (default OWASP's).
    ///   - maxConcurrent: hashes computed at once, on threads of this hasher's own (default: the
    ///     process-wide threads, one per processor).
    public init(parameters: ScryptParameters = .owasp, maxConcurrent: Int? = nil) {
        precondition(parameters.isWithinBounds, "scrypt parameters out of bounds")
        self.parameters = parameters
        threads = maxConcurrent.map { WorkerThreads(count: $0, name: "warden-password") } ?? Self.sharedThreads
        // A hash of a random password: verifying against it costs what a real verification costs.
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        dummy = .scrypt(parameters, salt: salt, hash: [UInt8](repeating: 0, count: 32))
    }

    /// Hashes `password` with a fresh 16-byte salt; returns the stored string.
    public func hash(_ password: String) async throws -> String {
        let parameters = parameters
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
        let normalized = Self.normalize(password)
        let hash = try await run { try Self.scrypt(normalized, salt: salt, parameters: parameters, length: 32) }
        return PasswordHash.scrypt(parameters, salt: salt, hash: hash).string
    }

    /// Verifies `password` against a stored string. An unparsable string never verifies (but costs the
    /// same time as a wrong password).
    public func verify(_ password: String, against stored: String) async -> Verification {
        guard let parsed = PasswordHash(stored) else {
            await verifyNothing()
            return .invalid
        }
        let parameters = parameters
        let matches: Bool
        switch parsed {
        case .scrypt(let storedParameters, let salt, let expected):
            let normalized = Self.normalize(password)
            guard let actual = try? await run({ try Self.scrypt(normalized, salt: salt, parameters: storedParameters, length: expected.count) }) else {
                return .invalid
            }
            matches = constantTimeEqual(actual, expected)
            return matches ? .valid(needsRehash: storedParameters != parameters) : .invalid
        case .legacyPBKDF2(let iterations, let salt, let expected):
            let bytes = Array(password.utf8)
            guard let actual = try? await run({
                try KDF.Insecure.PBKDF2.deriveKey(
                    from: bytes, salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations
                ).withUnsafeBytes { Array($0) }
            }) else { return .invalid }
            return constantTimeEqual(actual, expected) ? .valid(needsRehash: true) : .invalid
        }
    }

    /// Spends the time of one verification at the current parameters, for logins with no account.
    public func verifyNothing() async {
        _ = await verify("", against: dummy.string)
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

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.run(work)
    }
}
