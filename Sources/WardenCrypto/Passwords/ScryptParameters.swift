/// scrypt's cost parameters.
public struct ScryptParameters: Sendable, Hashable, CustomStringConvertible {
    /// log2 of the CPU/memory cost N.
    public var logN: Int
    /// Block size r.
    public var blockSize: Int
    /// Parallelism p.
    public var parallelism: Int

    /// OWASP's recommendation (Password Storage Cheat Sheet): N = 2^17, r = 8, p = 1 — 128 MiB and,
    /// on this project's machine class, about a quarter of a second per hash (see docs/benchmarks.md).
    public static let owasp = ScryptParameters(logN: 17, blockSize: 8, parallelism: 1)

    public init(logN: Int, blockSize: Int, parallelism: Int) {
        self.logN = logN
        self.blockSize = blockSize
        self.parallelism = parallelism
    }

    /// Memory one hash needs: 128 · r · N · p bytes.
    public var memoryBytes: Int { 128 * blockSize * (1 << logN) * parallelism }

    /// Whether the parameters are within the bounds Warden accepts (N from 2^10 to 2^22, r from 1 to 32,
    /// p from 1 to 16, at most 1 GiB): parameters read from a stored hash are checked before use so a
    /// planted hash cannot make verification exhaust memory.
    public var isWithinBounds: Bool {
        (10...22).contains(logN) && (1...32).contains(blockSize) && (1...16).contains(parallelism) && memoryBytes <= 1 << 30
    }

    public var description: String { "ln=\(logN),r=\(blockSize),p=\(parallelism)" }
}
