import Testing

@testable import QRCode

@Suite("Format and version information")
struct FormatInformationTests {
    /// ISO/IEC 18004 annex C, table C.1: the 15-bit format information (after the 0x5412 mask) for every
    /// level and mask, masks 0 to 7 in order.
    static let formatTable: [(QRErrorCorrection, [String])] = [
        (
            .low,
            [
                "111011111000100", "111001011110011", "111110110101010", "111100010011101",
                "110011000101111", "110001100011000", "110110001000001", "110100101110110",
            ]
        ),
        (
            .medium,
            [
                "101010000010010", "101000100100101", "101111001111100", "101101101001011",
                "100010111111001", "100000011001110", "100111110010111", "100101010100000",
            ]
        ),
        (
            .quartile,
            [
                "011010101011111", "011000001101000", "011111100110001", "011101000000110",
                "010010010110100", "010000110000011", "010111011011010", "010101111101101",
            ]
        ),
        (
            .high,
            [
                "001011010001001", "001001110111110", "001110011100111", "001100111010000",
                "000011101100010", "000001001010101", "000110100001100", "000100000111011",
            ]
        ),
    ]

    @Test("format information matches the standard's table for all 32 level and mask pairs")
    func formatBitsMatchTable() {
        for (level, masks) in Self.formatTable {
            for (mask, expected) in masks.enumerated() {
                let bits = FormatInformation.formatBits(errorCorrection: level, mask: mask)
                #expect(bits == Int(expected, radix: 2), "\(level) mask \(mask)")
            }
        }
    }

    @Test("format codes are at least 7 bits apart, so up to 3 bit errors are correctable")
    func formatCodeDistance() {
        let codes = QRErrorCorrection.allCases.flatMap { level in
            (0..<8).map { FormatInformation.formatBits(errorCorrection: level, mask: $0) }
        }
        var smallest = Int.max
        for (index, first) in codes.enumerated() {
            for second in codes[(index + 1)...] { smallest = min(smallest, (first ^ second).nonzeroBitCount) }
        }
        #expect(smallest == 7)
    }

    /// ISO/IEC 18004 annex D, table D.1: version information for versions 7 to 40.
    static let versionTable: [Int] = [
        0x07C94, 0x085BC, 0x09A99, 0x0A4D3, 0x0BBF6, 0x0C762, 0x0D847, 0x0E60D, 0x0F928, 0x10B78,
        0x1145D, 0x12A17, 0x13532, 0x149A6, 0x15683, 0x168C9, 0x177EC, 0x18EC4, 0x191E1, 0x1AFAB,
        0x1B08E, 0x1CC1A, 0x1D33F, 0x1ED75, 0x1F250, 0x209D5, 0x216F0, 0x228BA, 0x2379F, 0x24B0B,
        0x2542E, 0x26A64, 0x27541, 0x28C69,
    ]

    @Test("version information matches the standard's table; version 7 is 0x07C94")
    func versionBitsMatchTable() {
        #expect(FormatInformation.versionBits(version: 7) == 0x07C94)
        for (offset, expected) in Self.versionTable.enumerated() {
            #expect(FormatInformation.versionBits(version: 7 + offset) == expected, "version \(7 + offset)")
        }
    }

    @Test("version codes are at least 8 bits apart")
    func versionCodeDistance() {
        let codes = (7...40).map { FormatInformation.versionBits(version: $0) }
        var smallest = Int.max
        for (index, first) in codes.enumerated() {
            for second in codes[(index + 1)...] { smallest = min(smallest, (first ^ second).nonzeroBitCount) }
        }
        #expect(smallest >= 8)
    }

    @Test("both copies of the format information read back from the symbol", arguments: QRErrorCorrection.allCases)
    func formatInformationPlacement(level: QRErrorCorrection) throws {
        for mask in 0..<8 {
            let code = try QRCode(text: "format \(mask)", errorCorrection: level, mask: mask)
            let n = code.size
            // Bit 14 (most significant) first, read along the paths the standard's figure 25 shows.
            let firstCopy: [(Int, Int)] = [
                (0, 8), (1, 8), (2, 8), (3, 8), (4, 8), (5, 8), (7, 8), (8, 8),
                (8, 7), (8, 5), (8, 4), (8, 3), (8, 2), (8, 1), (8, 0),
            ]
            let secondCopy: [(Int, Int)] = (0..<7).map { (8, n - 1 - $0) } + (0..<8).map { (n - 8 + $0, 8) }
            let expected = FormatInformation.formatBits(errorCorrection: level, mask: mask)
            for copy in [firstCopy, secondCopy] {
                let value = copy.reduce(0) { $0 << 1 | (code[$1.0, $1.1] ? 1 : 0) }
                #expect(value == expected, "\(level) mask \(mask)")
            }
            #expect(code[8, n - 8], "dark module")
        }
    }

    @Test("both copies of the version information read back from a version 7 symbol")
    func versionInformationPlacement() throws {
        let code = try QRCode(text: "v7", minimumVersion: 7)
        #expect(code.version == 7)
        let n = code.size
        var bottomLeft = 0
        var topRight = 0
        // Bit 17 first: the bottom-left block is 6 columns × 3 rows, bit i at column i / 3, row n − 11 + i % 3.
        for bit in stride(from: 17, through: 0, by: -1) {
            bottomLeft = bottomLeft << 1 | (code[bit / 3, n - 11 + bit % 3] ? 1 : 0)
            topRight = topRight << 1 | (code[n - 11 + bit % 3, bit / 3] ? 1 : 0)
        }
        #expect(bottomLeft == 0x07C94)
        #expect(topRight == 0x07C94)
    }
}
