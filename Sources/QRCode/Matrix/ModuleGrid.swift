/// The square of modules being built into a symbol, with a record of which modules belong to function
/// patterns (and so are never data, never masked).
///
/// Coordinates are x for the column and y for the row, (0, 0) at the top left. Storage is row-major.
struct ModuleGrid {
    let version: Int
    let size: Int
    /// Dark modules are `true`.
    private(set) var modules: [Bool]
    /// Modules of function patterns, format and version information: not available for data.
    private(set) var isFunction: [Bool]

    /// A grid with every function pattern of `version` drawn: finders with separators, timing patterns,
    /// alignment patterns, the dark module and version information. The format information areas are
    /// reserved (left light) until ``drawFormatInformation(errorCorrection:mask:)``.
    init(version: Int) {
        precondition((1...40).contains(version), "QR version \(version) is outside 1...40")
        self.version = version
        size = SymbolLayout.size(version: version)
        modules = [Bool](repeating: false, count: size * size)
        isFunction = [Bool](repeating: false, count: size * size)

        // Timing patterns run along row 6 and column 6, dark on even coordinates; the finders drawn next
        // overwrite their ends.
        for index in 0..<size {
            setFunction(x: index, y: 6, dark: index % 2 == 0)
            setFunction(x: 6, y: index, dark: index % 2 == 0)
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            drawFinder(centerX: x, centerY: y)
        }
        let positions = SymbolLayout.alignmentPositions(version: version)
        if let first = positions.first, let last = positions.last {
            for y in positions {
                for x in positions {
                    let overlapsFinder =
                        (x == first && y == first) || (x == first && y == last)
                        || (x == last && y == first)
                    if !overlapsFinder { drawAlignment(centerX: x, centerY: y) }
                }
            }
        }
        drawFormatArea(bits: 0)
        setFunction(x: 8, y: size - 8, dark: true)
        if version >= 7 { drawVersionInformation() }
    }

    /// Fills the encoding region with `codewords`, most significant bit first, in the standard's
    /// placement order (7.7.3): two-module-wide columns from the right edge, alternately upwards and
    /// downwards, skipping column 6 (the vertical timing pattern) and every function module. Modules
    /// left after the last codeword are the remainder bits and stay light.
    mutating func placeCodewords(_ codewords: [UInt8]) {
        let bitCount = codewords.count * 8
        var bitIndex = 0
        var right = size - 1
        var upward = true
        while right >= 1 {
            if right == 6 { right = 5 }
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for x in stride(from: right, through: right - 1, by: -1) where !isFunction[y * size + x] {
                    if bitIndex < bitCount {
                        let byte = codewords[bitIndex >> 3]
                        modules[y * size + x] = (byte >> (7 - UInt8(bitIndex & 7))) & 1 == 1
                    }
                    bitIndex += 1
                }
            }
            upward.toggle()
            right -= 2
        }
        assert(bitIndex == SymbolLayout.dataModules(version: version), "placement missed modules")
    }

    /// Inverts the encoding region (every non-function module) where mask `pattern` says so.
    mutating func applyMask(_ pattern: Int) {
        MaskPattern.apply(pattern, to: &modules, sparing: isFunction, size: size)
    }

    /// Writes both copies of the format information for a level and mask.
    mutating func drawFormatInformation(errorCorrection: QRErrorCorrection, mask: Int) {
        drawFormatArea(bits: FormatInformation.formatBits(errorCorrection: errorCorrection, mask: mask))
    }

    // MARK: - Function patterns

    private mutating func setFunction(x: Int, y: Int, dark: Bool) {
        modules[y * size + x] = dark
        isFunction[y * size + x] = true
    }

    /// A 7 × 7 finder (dark ring, light ring, dark 3 × 3 core) and the light separator around it, clipped
    /// at the symbol's edges.
    private mutating func drawFinder(centerX: Int, centerY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centerX + dx
                let y = centerY + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let ring = max(abs(dx), abs(dy))
                setFunction(x: x, y: y, dark: ring != 2 && ring != 4)
            }
        }
    }

    /// A 5 × 5 alignment pattern: dark ring, light ring, dark centre.
    private mutating func drawAlignment(centerX: Int, centerY: Int) {
        for dy in -2...2 {
            for dx in -2...2 {
                setFunction(x: centerX + dx, y: centerY + dy, dark: max(abs(dx), abs(dy)) != 1)
            }
        }
    }

    /// The 15 format bits, bit 0 the least significant, in both places (7.9.1, figure 25).
    ///
    /// First copy, around the top-left finder: bits 0–5 down column 8 in rows 0–5, bit 6 at row 7 (row 6
    /// is timing), bit 7 at (8, 8), bit 8 at column 7 of row 8, bits 9–14 along row 8 from column 5 to 0.
    /// Second copy: bits 0–7 along row 8 from the right edge leftwards, bits 8–14 down column 8 in the
    /// bottom seven rows.
    private mutating func drawFormatArea(bits: Int) {
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        for index in 0...5 { setFunction(x: 8, y: index, dark: bit(index)) }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for index in 9...14 { setFunction(x: 14 - index, y: 8, dark: bit(index)) }

        for index in 0...7 { setFunction(x: size - 1 - index, y: 8, dark: bit(index)) }
        for index in 8...14 { setFunction(x: 8, y: size - 15 + index, dark: bit(index)) }
    }

    /// The 18 version bits in both 6 × 3 blocks (7.10, figure 27): bit i at column i / 3 of rows
    /// size − 11 + i % 3 in the bottom-left block, and transposed in the top-right block.
    private mutating func drawVersionInformation() {
        let bits = FormatInformation.versionBits(version: version)
        for index in 0..<18 {
            let dark = (bits >> index) & 1 == 1
            let near = index / 3
            let far = size - 11 + index % 3
            setFunction(x: near, y: far, dark: dark)
            setFunction(x: far, y: near, dark: dark)
        }
    }
}
