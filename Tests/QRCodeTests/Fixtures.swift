@testable import QRCode

/// Deterministic pseudo-random bytes (SplitMix64), so payloads are varied but every run tests the same.
struct SeededBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

extension [UInt8] {
    /// Lowercase hexadecimal, two digits a byte, as Python's `bytes.hex()` writes it.
    var hex: String { map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

extension QRCode {
    /// The modules as rows of "0" and "1", the form the Python helpers print.
    var rows: [String] {
        (0..<size).map { y in String((0..<size).map { x in self[x, y] ? "1" : "0" }) }
    }
}
