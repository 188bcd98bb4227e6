/// The penalty score of ISO/IEC 18004 7.8.3.1 (table 11), which decides the mask: the encoder picks the
/// pattern whose masked symbol scores lowest, the first such pattern on a tie.
///
/// The four features, with the standard's weights:
/// - N1 = 3: a run of 5 + i modules of one colour in a row or column scores N1 + i.
/// - N2 = 3: an m × n block of one colour scores N2 × (m − 1) × (n − 1), counted here as N2 for every
///   2 × 2 square of one colour (overlapping squares each count), which gives the same total.
/// - N3 = 40: each occurrence in a row or column of dark-light-dark-dark-dark-light-dark (1:1:3:1:1) with
///   a light area at least 4 modules wide before or after it. The area beyond the symbol's edge counts as
///   light, since a quiet zone always surrounds the symbol. Every position counts: an occurrence with
///   light on both sides scores once, and two occurrences that share an end module score twice.
/// - N4 = 10: N4 × k, where k is how many whole 5 % steps the proportion of dark modules lies from 50 %
///   (strictly between 45 % and 55 % scores nothing; exactly 45 % or 55 % scores 10).
///
/// The standard (7.8.3.1) evaluates "the complete symbol" even though masking touches only the encoding
/// region, so each candidate is scored with its own format information, the version information and the
/// dark module in place. Some encoders (segno among them) score before the format and version
/// information are drawn, and so sometimes choose a different mask; both choices decode.
enum MaskPenalty {
    /// The four parts of a score, kept apart so tests can compare each with another implementation.
    struct Score: Equatable, CustomStringConvertible {
        var runs = 0
        var blocks = 0
        var finderLike = 0
        var balance = 0

        var total: Int { runs + blocks + finderLike + balance }
        var description: String { "N1 \(runs) + N2 \(blocks) + N3 \(finderLike) + N4 \(balance) = \(total)" }
    }

    static let runWeight = 3
    static let blockWeight = 3
    static let finderLikeWeight = 40
    static let balanceWeight = 10

    /// Scores a square symbol of `size` × `size` modules stored row-major, dark as `true`.
    ///
    /// Rows are scanned in place and columns as the rows of a transposed copy, so each line is one
    /// sequential pass with its state in registers. Runs are scored as they grow (3 points when a run
    /// reaches 5 modules, 1 for each module after), which totals the same as scoring each run when it
    /// ends; the comparisons are written so they compile without branches, because module colours are
    /// random and mispredicted branches would otherwise dominate the time.
    static func score(_ modules: [Bool], size: Int) -> Score {
        precondition(size >= 1 && modules.count == size * size, "module count does not match the size")
        var score = Score()
        var dark = 0
        let transposed = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size * size)
        defer { transposed.deallocate() }

        modules.withUnsafeBufferPointer { booleans in
            // Bool is stored as one byte holding 0 or 1; reading it as UInt8 allows arithmetic on colours.
            booleans.withMemoryRebound(to: UInt8.self) { grid in
                for y in 0..<size {
                    let row = y * size
                    for x in 0..<size {
                        let module = grid[row + x]
                        dark &+= Int(module)
                        transposed[x * size + y] = module
                        if y > 0 && x > 0 {
                            // Four modules of one colour sum to 0 or 4.
                            let sum = module &+ grid[row + x - 1] &+ grid[row - size + x] &+ grid[row - size + x - 1]
                            score.blocks &+= sum & 3 == 0 ? blockWeight : 0
                        }
                    }
                }
                scoreLines(grid, size: size, into: &score)
            }
        }
        scoreLines(UnsafeBufferPointer(transposed), size: size, into: &score)

        // |dark / total − 1/2| in whole steps of 1/20, in integers.
        let total = size * size
        score.balance = balanceWeight * (abs(20 * dark - 10 * total) / total)
        return score
    }

    /// N1 and N3 for every row of `grid`.
    private static func scoreLines(_ grid: UnsafeBufferPointer<UInt8>, size: Int, into score: inout Score) {
        var runs = 0
        var finderLike = 0
        for row in stride(from: 0, to: size * size, by: size) {
            var run = 0
            var previous: UInt8 = 2
            var recent: UInt32 = 0
            for x in 0..<size {
                let module = grid[row + x]
                run = run &* (module == previous ? 1 : 0) &+ 1
                runs &+= (run == 5 ? runWeight : 0) &+ (run > 5 ? 1 : 0)
                previous = module
                recent = (recent << 1 | UInt32(module)) & 0x7FFF
                if isFinderLike(recent) { finderLike &+= finderLikeWeight }
            }
            finderLike &+= finderLikeAtEnd(recent)
        }
        score.runs &+= runs
        score.finderLike &+= finderLike
    }

    /// Whether the last 15 modules of a line (newest in the lowest bit) are 4 modules, then
    /// dark-light-dark-dark-dark-light-dark, then 4 modules, with the 4 before or the 4 after all light.
    /// Positions before the line's start are zero bits, so they read as light.
    @inline(__always)
    private static func isFinderLike(_ recent: UInt32) -> Bool {
        (recent >> 4) & 0x7F == 0b101_1101 && (recent >> 11 == 0 || recent & 0xF == 0)
    }

    /// The N3 points for patterns that end within 4 modules of a line's end, where the light area after
    /// them lies partly beyond the edge: four light modules are fed in after the last one.
    private static func finderLikeAtEnd(_ recent: UInt32) -> Int {
        var recent = recent
        var points = 0
        for _ in 0..<4 {
            recent = (recent << 1) & 0x7FFF
            if isFinderLike(recent) { points += finderLikeWeight }
        }
        return points
    }
}
