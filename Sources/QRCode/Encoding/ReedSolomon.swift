/// Arithmetic in GF(256) as QR codes use it: bytes are polynomials over GF(2) reduced modulo
/// x⁸ + x⁴ + x³ + x² + 1 (0x11D), and α = 2 generates the multiplicative group.
enum GaloisField {
    /// `exponents[i]` is αⁱ for i in 0..<510, so a sum of two logarithms indexes it without a modulo.
    static let exponents: [UInt8] = tables.exponents
    /// `logarithms[x]` is log_α(x) for x in 1...255 (entry 0 is unused).
    static let logarithms: [UInt8] = tables.logarithms

    private static var tables: (exponents: [UInt8], logarithms: [UInt8]) {
        var exponents = [UInt8](repeating: 0, count: 510)
        var logarithms = [UInt8](repeating: 0, count: 256)
        var value = 1
        for power in 0..<255 {
            exponents[power] = UInt8(value)
            exponents[power + 255] = UInt8(value)
            logarithms[value] = UInt8(power)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return (exponents, logarithms)
    }

    /// αⁿ for any n ≥ 0.
    static func power(_ exponent: Int) -> UInt8 { exponents[exponent % 255] }

    /// The product of two field elements.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exponents[Int(logarithms[Int(a)]) + Int(logarithms[Int(b)])]
    }
}

/// Computes the Reed–Solomon error correction codewords for one block (ISO/IEC 18004 7.5.2).
///
/// The generator polynomial of degree n is (x − α⁰)(x − α¹)…(x − αⁿ⁻¹); the error correction codewords
/// are the remainder of the data polynomial times xⁿ divided by it.
struct ReedSolomonEncoder {
    /// The logarithms of the generator's coefficients below the leading 1, highest degree first; −1
    /// stands for a zero coefficient, which has no logarithm.
    private let generatorLogs: [Int]

    /// - Parameter degree: The number of error correction codewords to produce (7...30 in QR codes).
    init(degree: Int) {
        precondition(degree > 0 && degree < 255, "Reed–Solomon degree \(degree) out of range")
        // Coefficients highest degree first, starting from the polynomial 1.
        var coefficients: [UInt8] = [1]
        for root in 0..<degree {
            // Multiply by (x + αʳ); in GF(2ⁿ) subtraction is addition.
            let factor = GaloisField.power(root)
            var product = coefficients + [0]
            for index in 1..<product.count {
                product[index] ^= GaloisField.multiply(coefficients[index - 1], factor)
            }
            coefficients = product
        }
        generatorLogs = coefficients.dropFirst().map { $0 == 0 ? -1 : Int(GaloisField.logarithms[Int($0)]) }
    }

    /// The error correction codewords for `data`, as many as the encoder's degree.
    func remainder(of data: some Sequence<UInt8>) -> [UInt8] {
        let degree = generatorLogs.count
        var remainder = [UInt8](repeating: 0, count: degree)
        let exponents = GaloisField.exponents
        let logarithms = GaloisField.logarithms
        for byte in data {
            // One step of long division: the leading term leaves, and the generator times it is
            // subtracted (added: this is characteristic 2) from what remains.
            let factor = byte ^ remainder[0]
            let factorLog = factor == 0 ? -1 : Int(logarithms[Int(factor)])
            for index in 0..<degree {
                let next = index + 1 < degree ? remainder[index + 1] : 0
                let coefficientLog = generatorLogs[index]
                let product = factorLog < 0 || coefficientLog < 0 ? 0 : exponents[coefficientLog + factorLog]
                remainder[index] = next ^ product
            }
        }
        return remainder
    }
}
