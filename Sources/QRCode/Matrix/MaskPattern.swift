/// The eight data mask patterns of ISO/IEC 18004 table 10.
///
/// The standard writes them with i for the row and j for the column; a module of the encoding region is
/// inverted where the condition holds.
enum MaskPattern {
    /// Whether mask `pattern` inverts the module in `row` and `column`.
    @inline(__always)
    static func inverts(_ pattern: Int, row i: Int, column j: Int) -> Bool {
        switch pattern {
        case 0: (i + j) % 2 == 0
        case 1: i % 2 == 0
        case 2: j % 3 == 0
        case 3: (i + j) % 3 == 0
        case 4: (i / 2 + j / 3) % 2 == 0
        case 5: (i * j) % 2 + (i * j) % 3 == 0
        case 6: ((i * j) % 2 + (i * j) % 3) % 2 == 0
        case 7: ((i + j) % 2 + (i * j) % 3) % 2 == 0
        default: preconditionFailure("mask \(pattern) is outside 0...7")
        }
    }

    /// Inverts the modules of `modules` (row-major, `size` wide) that `pattern` selects, except those
    /// marked in `isFunction`.
    static func apply(_ pattern: Int, to modules: inout [Bool], sparing isFunction: [Bool], size: Int) {
        precondition(modules.count == size * size && isFunction.count == size * size)
        modules.withUnsafeMutableBufferPointer { modules in
            isFunction.withUnsafeBufferPointer { isFunction in
                // One loop per pattern, so the condition is not re-dispatched for every module.
                func invert(where condition: (Int, Int) -> Bool) {
                    for i in 0..<size {
                        for j in 0..<size where !isFunction[i * size + j] && condition(i, j) {
                            modules[i * size + j].toggle()
                        }
                    }
                }
                switch pattern {
                case 0: invert { inverts(0, row: $0, column: $1) }
                case 1: invert { inverts(1, row: $0, column: $1) }
                case 2: invert { inverts(2, row: $0, column: $1) }
                case 3: invert { inverts(3, row: $0, column: $1) }
                case 4: invert { inverts(4, row: $0, column: $1) }
                case 5: invert { inverts(5, row: $0, column: $1) }
                case 6: invert { inverts(6, row: $0, column: $1) }
                case 7: invert { inverts(7, row: $0, column: $1) }
                default: preconditionFailure("mask \(pattern) is outside 0...7")
                }
            }
        }
    }
}
