/// The codeword structure of one QR symbol: how many codewords a version holds and how a level splits
/// them into Reed–Solomon blocks (ISO/IEC 18004 table 9).
///
/// The standard's table lists, for every version and level, the error correction codewords per block and
/// two groups of blocks whose data lengths differ by one. Two numbers per entry determine the rest: the
/// error correction codewords per block and the number of blocks. The data codewords are what remains of
/// the version's total, shared as evenly as possible, with the shorter blocks first. The tests check the
/// derived groups against entries of the published table.
struct SymbolLayout: Equatable {
    /// Blocks of one length: how many there are and the data codewords each holds.
    struct BlockGroup: Equatable {
        var count: Int
        var dataCodewords: Int
    }

    /// The version, 1...40.
    let version: Int
    /// All codewords in the symbol, data and error correction together.
    let totalCodewords: Int
    /// Error correction codewords appended to every block.
    let errorCorrectionPerBlock: Int
    /// Blocks in group 1 and the data codewords each of them holds.
    let group1: BlockGroup
    /// Blocks in group 2 and the data codewords each of them holds (one more than group 1); the count
    /// is zero where the version and level have a single group.
    let group2: BlockGroup

    init(version: Int, errorCorrection: QRErrorCorrection) {
        precondition((1...40).contains(version), "QR version \(version) is outside 1...40")
        let level = errorCorrection.tableIndex
        let blocks = Int(Self.blockCounts[level][version - 1])
        let perBlock = Int(Self.errorCorrectionCodewordsPerBlock[level][version - 1])
        let total = Self.totalCodewords(version: version)
        let data = total - blocks * perBlock
        let longBlocks = data % blocks
        self.version = version
        self.totalCodewords = total
        self.errorCorrectionPerBlock = perBlock
        self.group1 = BlockGroup(count: blocks - longBlocks, dataCodewords: data / blocks)
        self.group2 = BlockGroup(count: longBlocks, dataCodewords: data / blocks + 1)
    }

    /// The number of Reed–Solomon blocks.
    var blockCount: Int { group1.count + group2.count }

    /// The data codewords the symbol carries, before error correction.
    var dataCodewords: Int { group1.count * group1.dataCodewords + group2.count * group2.dataCodewords }

    /// The bits of the character count indicator for byte mode: 8 up to version 9, 16 from version 10.
    var byteCountBits: Int { version <= 9 ? 8 : 16 }

    /// The largest byte-mode payload, in bytes: the data bits less the 4-bit mode indicator and the
    /// character count, rounded down to whole bytes.
    var byteCapacity: Int { (dataCodewords * 8 - 4 - byteCountBits) / 8 }

    /// The side of the symbol in modules: 21 for version 1, four more for each version after.
    static func size(version: Int) -> Int { 4 * version + 17 }

    /// The modules left for codewords once every function pattern is drawn.
    ///
    /// Counted from the patterns: three finders with their separators (8 × 8 each), two copies of the
    /// 15-bit format information and the dark module, the two timing lines between the finders, the
    /// 5 × 5 alignment patterns (less the modules they share with the timing lines) and, from version 7,
    /// two 18-bit version information blocks. Whatever does not fill a whole codeword is the remainder
    /// bits (0, 3, 4 or 7 of them).
    static func dataModules(version: Int) -> Int {
        let side = size(version: version)
        var function = 3 * 64 + 2 * 15 + 1 + 2 * (side - 16)
        let positions = alignmentPositions(version: version).count
        if positions > 0 {
            // The pattern grid is positions × positions less the three corners the finders occupy; the
            // patterns in row 6 and column 6 (all but the corners) each lie across 5 timing modules.
            function += 25 * (positions * positions - 3) - 2 * 5 * (positions - 2)
        }
        if version >= 7 { function += 2 * 18 }
        return side * side - function
    }

    /// All codewords of a version (data and error correction).
    static func totalCodewords(version: Int) -> Int { dataModules(version: version) / 8 }

    /// The light modules placed after the last codeword.
    static func remainderBits(version: Int) -> Int { dataModules(version: version) % 8 }

    /// The row and column coordinates of alignment pattern centres (ISO/IEC 18004 annex E); empty for
    /// version 1. Patterns sit at every pairing of these values except the three finder corners.
    static func alignmentPositions(version: Int) -> [Int] {
        version == 1 ? [] : alignmentTable[version - 2].map(Int.init)
    }

    // MARK: - Tables

    /// Alignment pattern centres for versions 2...40.
    private static let alignmentTable: [[UInt8]] = [
        [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
        [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
        [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82],
        [6, 30, 58, 86], [6, 34, 62, 90],
        [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102], [6, 28, 54, 80, 106],
        [6, 32, 58, 84, 110], [6, 30, 58, 86, 114], [6, 34, 62, 90, 118],
        [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130],
        [6, 30, 56, 82, 108, 134], [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142],
        [6, 34, 62, 90, 118, 146],
        [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154], [6, 28, 54, 80, 106, 132, 158],
        [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
    ]

    /// Error correction codewords per block, indexed [level L/M/Q/H][version - 1].
    private static let errorCorrectionCodewordsPerBlock: [[UInt8]] = [
        [
            7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
            28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        [
            10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
            26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        ],
        [
            13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
            28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        [
            17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
            30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
    ]

    /// Reed–Solomon blocks (groups 1 and 2 together), indexed [level L/M/Q/H][version - 1].
    private static let blockCounts: [[UInt8]] = [
        [
            1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
            8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
        ],
        [
            1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
            17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
        ],
        [
            1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
            23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
        ],
        [
            1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
            25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
        ],
    ]
}
