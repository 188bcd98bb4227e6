import Testing

@testable import QRCode

@Suite("Mask penalty (ISO/IEC 18004 table 11)")
struct MaskPenaltyTests {
    /// A square grid from rows of "0" and "1".
    private func grid(_ rows: [String]) -> (modules: [Bool], size: Int) {
        precondition(rows.allSatisfy { $0.count == rows.count })
        return (rows.flatMap { $0.map { $0 == "1" } }, rows.count)
    }

    /// A light square of `size` with one row replaced.
    private func lightGrid(size: Int, row: Int, contents: String) -> (modules: [Bool], size: Int) {
        grid((0..<size).map { $0 == row ? contents : String(repeating: "0", count: size) })
    }

    @Test("a uniform 21 × 21 square: every line one run, every 2 × 2 square one colour, 0 % or 100 % dark")
    func uniform() {
        for colour in ["0", "1"] {
            let (modules, size) = grid(Array(repeating: String(repeating: colour, count: 21), count: 21))
            let score = MaskPenalty.score(modules, size: size)
            #expect(score.runs == 42 * (3 + 16))
            #expect(score.blocks == 20 * 20 * 3)
            #expect(score.finderLike == 0)
            #expect(score.balance == 100)
        }
    }

    @Test("a checkerboard scores nothing")
    func checkerboard() {
        let rows = (0..<21).map { y in String((0..<21).map { x in (x + y) % 2 == 0 ? "1" : "0" }) }
        let (modules, size) = grid(rows)
        #expect(MaskPenalty.score(modules, size: size) == MaskPenalty.Score())
    }

    @Test("runs: 5 modules score 3, each further module 1, 4 modules nothing")
    func runs() {
        // Rows of a checkerboard-like background would add nothing; here each row is alternating except
        // one run. Use a 12-wide square whose rows alternate and whose columns therefore alternate too.
        func score(runLength: Int) -> Int {
            let size = 12
            var rows = (0..<size).map { y in String((0..<size).map { x in (x + y) % 2 == 0 ? "1" : "0" }) }
            // Row 0 becomes: runLength dark modules, then alternating starting light.
            rows[0] =
                String(repeating: "1", count: runLength)
                + String((runLength..<size).map { x in (x - runLength) % 2 == 0 ? "0" : "1" })
            let (modules, side) = grid(rows)
            return MaskPenalty.score(modules, size: side).runs
        }
        #expect(score(runLength: 4) == 0)
        #expect(score(runLength: 5) == 3)
        #expect(score(runLength: 6) == 4)
        #expect(score(runLength: 9) == 7)
    }

    @Test("1:1:3:1:1 with four light modules inside the symbol before it scores 40")
    func finderLikeWithLightBefore() {
        let (modules, size) = lightGrid(size: 11, row: 5, contents: "00001011101")
        #expect(MaskPenalty.score(modules, size: size).finderLike == 40)
    }

    @Test("light on both sides (the edge counting as light) still scores once")
    func finderLikeCountedOnce() {
        let (modules, size) = lightGrid(size: 11, row: 5, contents: "10111010000")
        #expect(MaskPenalty.score(modules, size: size).finderLike == 40)
    }

    @Test("a pattern at the edge scores: the quiet zone beyond the edge is light")
    func finderLikeAtEdge() {
        let (modules, size) = lightGrid(size: 11, row: 5, contents: "1011101" + "0011")
        #expect(MaskPenalty.score(modules, size: size).finderLike == 40)
    }

    @Test("only three light modules on each side, and dark beyond them, scores nothing")
    func finderLikeNeedsFourLight() {
        let (modules, size) = lightGrid(size: 15, row: 7, contents: "1000" + "1011101" + "0001")
        #expect(MaskPenalty.score(modules, size: size).finderLike == 0)
        let (columns, side) = grid(
            (0..<15).map { y in
                let pattern = Array("1000" + "1011101" + "0001")
                return String(repeating: "0", count: 7) + String(pattern[y]) + String(repeating: "0", count: 7)
            })
        #expect(MaskPenalty.score(columns, size: side).finderLike == 0)
    }

    @Test("overlapping occurrences each score when each has its light area")
    func finderLikeOverlapping() {
        let (modules, size) = lightGrid(size: 15, row: 7, contents: "0000" + "10111011101")
        #expect(MaskPenalty.score(modules, size: size).finderLike == 80)
    }

    @Test("columns are scored like rows")
    func finderLikeInColumn() {
        let pattern = Array("00001011101")
        let (modules, size) = grid((0..<11).map { y in "00000" + String(pattern[y]) + "00000" })
        #expect(MaskPenalty.score(modules, size: size).finderLike == 40)
    }

    @Test(
        "balance: 10 points per whole 5 % step away from 50 %",
        arguments: [
            (180, 10), (181, 0), (200, 0), (219, 0), (220, 10), (240, 20), (260, 30), (0, 100), (400, 100),
        ])
    func balance(dark: Int, expected: Int) {
        let modules = (0..<400).map { $0 < dark }
        #expect(MaskPenalty.score(modules, size: 20).balance == expected)
    }

    @Test(
        "automatic selection keeps the lowest-scoring of all eight complete symbols",
        arguments: [
            "hello", "otpauth://totp/Warden:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Warden",
            String(repeating: "0123456789", count: 30), "",
        ])
    func selectionIsMinimum(text: String) throws {
        for level in QRErrorCorrection.allCases {
            let automatic = try QRCode(text: text, errorCorrection: level)
            let scores = try (0..<8).map { mask in
                let code = try QRCode(text: text, errorCorrection: level, mask: mask)
                return MaskPenalty.score(code.modules, size: code.size).total
            }
            let best = scores.min()!
            #expect(automatic.mask == scores.firstIndex(of: best), "\(level): scores \(scores)")
            #expect(automatic.rows == (try QRCode(text: text, errorCorrection: level, mask: automatic.mask)).rows)
        }
    }
}
