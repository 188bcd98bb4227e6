import Testing

@testable import QRCode

@Suite("Reed–Solomon over GF(256)")
struct ReedSolomonTests {
    /// Multiplication by shift-and-add with reduction by 0x11D, independent of the log tables.
    private func slowMultiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var product = 0
        var a = Int(a)
        var b = Int(b)
        while b != 0 {
            if b & 1 == 1 { product ^= a }
            a <<= 1
            if a & 0x100 != 0 { a ^= 0x11D }
            b >>= 1
        }
        return UInt8(product)
    }

    @Test("table multiplication agrees with carry-less multiplication for all 65 536 pairs")
    func multiplicationMatchesDefinition() {
        var mismatches = 0
        for a in 0...255 {
            for b in 0...255 where GaloisField.multiply(UInt8(a), UInt8(b)) != slowMultiply(UInt8(a), UInt8(b)) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        #expect(GaloisField.power(8) == 0x1D)
        #expect(GaloisField.power(255) == 1)
    }

    @Test("α generates all 255 non-zero elements")
    func generatorIsPrimitive() {
        #expect(Set((0..<255).map { GaloisField.power($0) }).count == 255)
    }

    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let data: [UInt8]
        let errorCorrection: [UInt8]
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        // The worked "HELLO WORLD" 1-Q example (alphanumeric mode) from the thonky.com tutorial.
        Vector(
            name: "HELLO WORLD 1-Q",
            data: [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236],
            errorCorrection: [168, 72, 22, 82, 217, 54, 156, 0, 46, 15, 180, 122, 16]),
        // ISO/IEC 18004 annex I: "01234567" in numeric mode, version 1-M.
        Vector(
            name: "01234567 1-M (ISO annex I)",
            data: [16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17],
            errorCorrection: [165, 36, 212, 193, 237, 54, 199, 135, 44, 85]),
    ]

    @Test("known error correction codewords", arguments: vectors)
    func knownVectors(_ vector: Vector) {
        let encoder = ReedSolomonEncoder(degree: vector.errorCorrection.count)
        #expect(encoder.remainder(of: vector.data) == vector.errorCorrection)
    }

    @Test("a codeword (data then error correction) vanishes at every root α⁰…αⁿ⁻¹", arguments: [7, 10, 13, 22, 30])
    func codewordsHaveGeneratorRoots(degree: Int) {
        var random = SeededBytes(seed: UInt64(degree))
        let data = random.bytes(100)
        let codeword = data + ReedSolomonEncoder(degree: degree).remainder(of: data)
        for root in 0..<degree {
            // Horner's rule: evaluate the codeword polynomial (highest degree first) at αʳ.
            let point = GaloisField.power(root)
            let value = codeword.reduce(UInt8(0)) { GaloisField.multiply($0, point) ^ $1 }
            #expect(value == 0, "root α^\(root)")
        }
    }

    @Test("all-zero data has all-zero error correction")
    func zeroData() {
        #expect(ReedSolomonEncoder(degree: 30).remainder(of: [UInt8](repeating: 0, count: 50)).allSatisfy { $0 == 0 })
    }
}
