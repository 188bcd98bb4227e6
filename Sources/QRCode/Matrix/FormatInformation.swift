/// The two BCH-protected fields a decoder reads before any data: format information (level and mask,
/// ISO/IEC 18004 7.9) and version information (versions 7 and up, 7.10).
enum FormatInformation {
    /// The 15-bit format information for a level and mask: five data bits (level indicator, then mask),
    /// ten BCH(15,5) check bits from the generator x¹⁰ + x⁸ + x⁵ + x⁴ + x² + x + 1 (0x537), the whole
    /// XORed with 0x5412 so that it is never all zeros.
    static func formatBits(errorCorrection: QRErrorCorrection, mask: Int) -> Int {
        precondition((0..<8).contains(mask), "mask \(mask) is outside 0...7")
        let data = errorCorrection.formatIndicator << 3 | mask
        return (data << 10 | bchRemainder(data << 10, generator: 0x537)) ^ 0x5412
    }

    /// The 18-bit version information for versions 7...40: six version bits followed by twelve
    /// BCH(18,6) check bits from the generator x¹² + x¹¹ + x¹⁰ + x⁹ + x⁸ + x⁵ + x² + 1 (0x1F25).
    static func versionBits(version: Int) -> Int {
        precondition((7...40).contains(version), "version information exists for versions 7...40 only")
        return version << 12 | bchRemainder(version << 12, generator: 0x1F25)
    }

    /// The remainder of `value` divided by `generator` as polynomials over GF(2).
    private static func bchRemainder(_ value: Int, generator: Int) -> Int {
        let degree = generator.bitWidth - generator.leadingZeroBitCount - 1
        var remainder = value
        while remainder.bitWidth - remainder.leadingZeroBitCount - 1 >= degree {
            let shift = (remainder.bitWidth - remainder.leadingZeroBitCount - 1) - degree
            remainder ^= generator << shift
        }
        return remainder
    }
}
