/// A structural pass over a JSON body before it is decoded: syntax, nesting depth, and duplicate keys
/// (compared after unescaping, so `"\u0075sername"` and `"username"` are the same key).
///
/// Foundation's decoder accepts duplicate keys and keeps the last; a proxy or a logging gateway in front
/// of Warden may keep the first, so a body with both is refused rather than read two ways.
enum JSONShape {
    enum Verdict: Equatable {
        case valid, tooDeep, duplicateKey, notAnObject, malformed
    }

    /// A parsed body, for routes that read their fields straight from it (one pass instead of this
    /// check and then `JSONDecoder`). Numbers, booleans and null are kept only as what they are.
    indirect enum Tree: Equatable {
        case object([(key: String, value: Tree)])
        case array([Tree])
        case string(String)
        case number
        case bool
        case null

        static func == (lhs: Tree, rhs: Tree) -> Bool {
            switch (lhs, rhs) {
            case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            case (.array(let a), .array(let b)): a == b
            case (.string(let a), .string(let b)): a == b
            case (.number, .number), (.bool, .bool), (.null, .null): true
            default: false
            }
        }

        /// The member `key` of an object.
        subscript(key: String) -> Tree? {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key == key }?.value
        }
    }

    static func check(_ bytes: [UInt8], maxDepth: Int) -> Verdict {
        parse(bytes, maxDepth: maxDepth, building: false).verdict
    }

    /// The check, and the body as a tree when it passes. Strings must be valid UTF-8 and `\u` escapes
    /// whole scalars (a lone surrogate is malformed), as `JSONDecoder` requires.
    static func tree(_ bytes: [UInt8], maxDepth: Int) -> (verdict: Verdict, tree: Tree?) {
        parse(bytes, maxDepth: maxDepth, building: true)
    }

    private static func parse(_ bytes: [UInt8], maxDepth: Int, building: Bool) -> (verdict: Verdict, tree: Tree?) {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth, building: building)
        parser.skipSpace()
        guard parser.peek == UInt8(ascii: "{") else { return (parser.verdict ?? .notAnObject, nil) }
        guard let tree = parser.value(depth: 0) else { return (parser.verdict ?? .malformed, nil) }
        parser.skipSpace()
        return parser.index == bytes.count ? (.valid, tree) : (.malformed, nil)
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        /// Whether to build the tree (else values are only checked, and `.null` stands for each).
        let building: Bool
        var index = 0
        var verdict: Verdict?

        init(bytes: [UInt8], maxDepth: Int, building: Bool) {
            self.bytes = bytes
            self.maxDepth = maxDepth
            self.building = building
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func fail(_ why: Verdict) -> Bool {
            if verdict == nil { verdict = why }
            return false
        }

        mutating func failing(_ why: Verdict) -> Tree? {
            _ = fail(why)
            return nil
        }

        mutating func value(depth: Int) -> Tree? {
            skipSpace()
            guard let byte = peek else { return failing(.malformed) }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < maxDepth else { return failing(.tooDeep) }
                return object(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < maxDepth else { return failing(.tooDeep) }
                return array(depth: depth + 1)
            case UInt8(ascii: "\""):
                guard let piece = string(keeping: building) else { return nil }
                guard building else { return .null }
                guard let decoded = text(piece) else { return failing(.malformed) }
                return .string(decoded)
            case UInt8(ascii: "t"): return literal("true") ? .bool : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number() ? .number : nil
            }
        }

        mutating func object(depth: Int) -> Tree? {
            index += 1
            // Keys seen so far: compared one by one while there are few (no hashing, no copies of the
            // common unescaped key), in a set once there are many.
            var keys: [Piece] = []
            var keySet: Set<[UInt8]>?
            var members: [(key: String, value: Tree)] = []
            skipSpace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return .object([])
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return failing(.malformed) }
                if keySet == nil, keys.count < 16 {
                    let keyBytes = self.bytes(key)
                    guard !keys.contains(where: { self.bytes($0).elementsEqual(keyBytes) }) else { return failing(.duplicateKey) }
                    keys.append(key)
                } else {
                    // Inserted in place: a local copy of the set would be copied whole at every key.
                    if keySet == nil { keySet = Set(keys.map { Array(self.bytes($0)) }) }
                    guard keySet?.insert(Array(self.bytes(key))).inserted == true else { return failing(.duplicateKey) }
                }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return failing(.malformed) }
                index += 1
                guard let member = value(depth: depth) else { return nil }
                if building {
                    guard let name = text(key) else { return failing(.malformed) }
                    members.append((name, member))
                }
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(members)
                default: return failing(.malformed)
                }
            }
        }

        mutating func array(depth: Int) -> Tree? {
            index += 1
            var elements: [Tree] = []
            skipSpace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return .array([])
            }
            while true {
                guard let element = value(depth: depth) else { return nil }
                if building { elements.append(element) }
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                default: return failing(.malformed)
                }
            }
        }

        /// A string's content: where it lies in the body when it has no escapes (most strings), else its
        /// bytes unescaped.
        enum Piece {
            case slice(Range<Int>)
            case owned([UInt8])
        }

        func bytes(_ piece: Piece) -> ArraySlice<UInt8> {
            switch piece {
            case .slice(let range): bytes[range]
            case .owned(let owned): owned[...]
            }
        }

        /// The piece as text, if it is valid UTF-8.
        func text(_ piece: Piece) -> String? {
            switch piece {
            case .slice(let range): bytes.withUnsafeBufferPointer { JSONBytes.text(UnsafeBufferPointer(rebasing: $0[range])) }
            case .owned(let owned): owned.withUnsafeBufferPointer { JSONBytes.text($0) }
            }
        }

        /// The string's content (as UTF-8; `\u` escapes as UTF-8 of their scalar), or with `keeping` false
        /// only whether it is well formed (a value's content is not needed, only an object key's).
        mutating func string(keeping: Bool = true) -> Piece? {
            index += 1
            let start = index
            index = bytes.withUnsafeBufferPointer { JSONBytes.plainRun($0, from: start) }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return .slice(start..<index - 1)
            }
            return unescaped(keeping: keeping, from: start).map(Piece.owned)
        }

        /// The rest of a string that holds an escape (or is malformed), `start` its first byte.
        mutating func unescaped(keeping: Bool, from start: Int) -> [UInt8]? {
            var out: [UInt8] = keeping ? Array(bytes[start..<index]) : []
            while index < bytes.count {
                // The run of plain bytes up to the next quote, backslash or control byte, in one step.
                let start = index
                index = bytes.withUnsafeBufferPointer { JSONBytes.plainRun($0, from: start) }
                if keeping, index > start { out.append(contentsOf: bytes[start..<index]) }
                guard let byte = peek else { break }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return out
                case UInt8(ascii: "\\"):
                    guard let escape = peek else {
                        _ = fail(.malformed)
                        return nil
                    }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else {
                            _ = fail(.malformed)
                            return nil
                        }
                        if (0xD800..<0xDC00).contains(scalar), peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else {
                                _ = fail(.malformed)
                                return nil
                            }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        if building, Unicode.Scalar(scalar) == nil {
                            _ = fail(.malformed)
                            return nil
                        }
                        out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
                    default:
                        _ = fail(.malformed)
                        return nil
                    }
                default:
                    guard byte >= 0x20 else {
                        _ = fail(.malformed)
                        return nil
                    }
                    out.append(byte)
                }
            }
            _ = fail(.malformed)
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt32
                switch byte {
                case 48...57: digit = UInt32(byte - 48)
                case 65...70: digit = UInt32(byte - 55)
                case 97...102: digit = UInt32(byte - 87)
                default: return nil
                }
                value = value << 4 | digit
            }
            index += 4
            return value
        }

        mutating func literal(_ word: String) -> Bool {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else { return fail(.malformed) }
            index += expected.count
            return true
        }

        /// A number by RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        mutating func number() -> Bool {
            func digits() -> Int {
                let start = index
                while let byte = peek, (48...57).contains(byte) { index += 1 }
                return index - start
            }
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                return fail(.malformed)
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return fail(.malformed) }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return fail(.malformed) }
            }
            return true
        }
    }
}
