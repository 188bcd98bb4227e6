import Testing

@testable import QRCode

@Suite("Block structure and geometry tables")
struct SymbolLayoutTests {
    struct Entry: Sendable, CustomTestStringConvertible {
        let version: Int
        let level: QRErrorCorrection
        let errorCorrectionPerBlock: Int
        let group1: (Int, Int)
        let group2: (Int, Int)
        var testDescription: String { "\(version)-\(level.letter)" }
    }

    /// Entries of ISO/IEC 18004 table 9: (blocks, data codewords per block) for each group.
    static let published: [Entry] = [
        Entry(version: 1, level: .low, errorCorrectionPerBlock: 7, group1: (1, 19), group2: (0, 20)),
        Entry(version: 1, level: .medium, errorCorrectionPerBlock: 10, group1: (1, 16), group2: (0, 17)),
        Entry(version: 1, level: .quartile, errorCorrectionPerBlock: 13, group1: (1, 13), group2: (0, 14)),
        Entry(version: 1, level: .high, errorCorrectionPerBlock: 17, group1: (1, 9), group2: (0, 10)),
        Entry(version: 5, level: .quartile, errorCorrectionPerBlock: 18, group1: (2, 15), group2: (2, 16)),
        Entry(version: 5, level: .high, errorCorrectionPerBlock: 22, group1: (2, 11), group2: (2, 12)),
        Entry(version: 7, level: .medium, errorCorrectionPerBlock: 18, group1: (4, 31), group2: (0, 32)),
        Entry(version: 10, level: .medium, errorCorrectionPerBlock: 26, group1: (4, 43), group2: (1, 44)),
        Entry(version: 40, level: .low, errorCorrectionPerBlock: 30, group1: (19, 118), group2: (6, 119)),
        Entry(version: 40, level: .medium, errorCorrectionPerBlock: 28, group1: (18, 47), group2: (31, 48)),
        Entry(version: 40, level: .quartile, errorCorrectionPerBlock: 30, group1: (34, 24), group2: (34, 25)),
        Entry(version: 40, level: .high, errorCorrectionPerBlock: 30, group1: (20, 15), group2: (61, 16)),
    ]

    @Test("derived block groups match the standard's table", arguments: published)
    func publishedEntries(_ entry: Entry) {
        let layout = SymbolLayout(version: entry.version, errorCorrection: entry.level)
        #expect(layout.errorCorrectionPerBlock == entry.errorCorrectionPerBlock)
        #expect(layout.group1 == .init(count: entry.group1.0, dataCodewords: entry.group1.1))
        #expect(layout.group2 == .init(count: entry.group2.0, dataCodewords: entry.group2.1))
    }

    @Test("every version and level accounts for all codewords with at most two block lengths")
    func allLayoutsConsistent() {
        for version in 1...40 {
            for level in QRErrorCorrection.allCases {
                let layout = SymbolLayout(version: version, errorCorrection: level)
                let used = layout.dataCodewords + layout.blockCount * layout.errorCorrectionPerBlock
                #expect(used == layout.totalCodewords, "\(version)-\(level.letter)")
                #expect(layout.group1.count >= 1 && layout.group1.dataCodewords >= 1)
                // The standard's error correction capacity: at most 30 codewords per block, even count.
                #expect(layout.errorCorrectionPerBlock <= 30)
            }
            // More correction never leaves more room for data.
            let data = QRErrorCorrection.allCases.map { SymbolLayout(version: version, errorCorrection: $0).dataCodewords }
            #expect(data == data.sorted(by: >), "version \(version)")
        }
    }

    @Test("total codewords and remainder bits for each version")
    func totalsAndRemainders() {
        let totals = [
            26, 44, 70, 100, 134, 172, 196, 242, 292, 346, 404, 466, 532, 581, 655, 733, 815, 901,
            991, 1085, 1156, 1258, 1364, 1474, 1588, 1706, 1828, 1921, 2051, 2185, 2323, 2465, 2611,
            2761, 2876, 3034, 3196, 3362, 3532, 3706,
        ]
        let remainders = [
            0, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 3, 3,
            3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
        ]
        #expect((1...40).map { SymbolLayout.totalCodewords(version: $0) } == totals)
        #expect((1...40).map { SymbolLayout.remainderBits(version: $0) } == remainders)
    }

    @Test("the counted data modules equal the modules the drawn function patterns leave free")
    func dataModulesMatchDrawnGrid() {
        for version in 1...40 {
            let grid = ModuleGrid(version: version)
            let free = grid.isFunction.lazy.filter { !$0 }.count
            #expect(free == SymbolLayout.dataModules(version: version), "version \(version)")
        }
    }

    @Test("alignment positions start at 6, end 7 from the far edge and are evenly spaced after the first gap")
    func alignmentPositions() {
        #expect(SymbolLayout.alignmentPositions(version: 1).isEmpty)
        for version in 2...40 {
            let positions = SymbolLayout.alignmentPositions(version: version)
            #expect(positions.count == version / 7 + 2, "version \(version)")
            #expect(positions.first == 6)
            #expect(positions.last == SymbolLayout.size(version: version) - 7)
            let gaps = zip(positions.dropFirst(), positions).map { $0 - $1 }
            #expect(Set(gaps.dropFirst()).count <= 1, "version \(version): \(gaps)")
            #expect(gaps.allSatisfy { $0 % 2 == 0 && $0 >= 16 } || version < 7, "version \(version): \(gaps)")
        }
    }

    @Test("byte-mode capacities match the standard's table 7")
    func byteCapacities() {
        // Version: L, M, Q, H.
        let published: [Int: [Int]] = [
            1: [17, 14, 11, 7], 2: [32, 26, 20, 14], 7: [154, 122, 86, 64], 9: [230, 180, 130, 98],
            10: [271, 213, 151, 119], 20: [858, 666, 482, 382], 27: [1465, 1125, 805, 625],
            40: [2953, 2331, 1663, 1273],
        ]
        for (version, capacities) in published {
            let ours = QRErrorCorrection.allCases.map { SymbolLayout(version: version, errorCorrection: $0).byteCapacity }
            #expect(ours == capacities, "version \(version)")
        }
        // Data codewords (the same table's other column), from which the byte capacities follow.
        let dataCodewords: [Int: [Int]] = [1: [19, 16, 13, 9], 27: [1468, 1128, 808, 628], 40: [2956, 2334, 1666, 1276]]
        for (version, counts) in dataCodewords {
            let ours = QRErrorCorrection.allCases.map { SymbolLayout(version: version, errorCorrection: $0).dataCodewords }
            #expect(ours == counts, "version \(version)")
        }
        // The count field widens at version 10; capacities still grow with the version at every level.
        for level in QRErrorCorrection.allCases {
            let capacities = (1...40).map { SymbolLayout(version: $0, errorCorrection: level).byteCapacity }
            #expect(zip(capacities, capacities.dropFirst()).allSatisfy { $0 < $1 }, "\(level)")
        }
    }
}
