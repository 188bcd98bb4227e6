/// A structural pass over a JSON body before it is decoded: syntax, nesting depth, and duplicate keys
/// (compared after unescaping, so `"\u0075sername"` and `"username"` are the same key).
///
/// Foundation's decoder accepts duplicate keys and keeps the last; a proxy or a logging gateway in front
/// of Warden may keep the first, so a body with both is refused rather than read two ways.
enum JSONShape {
    enum Verdict: Equatable {
        case valid, tooDeep, duplicateKey, notAnObject, malformed
    }

    static func check(_ bytes: [UInt8], maxDepth: Int) -> Verdict {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        guard parser.peek == UInt8(ascii: "{") else { return parser.verdict ?? .notAnObject }
        guard parser.value(depth: 0) else { return parser.verdict ?? .malformed }
        parser.skipSpace()
        return parser.index == bytes.count ? .valid : .malformed
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0
        var verdict: Verdict?

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func fail(_ why: Verdict) -> Bool {
            if verdict == nil { verdict = why }
            return false
        }

        mutating func value(depth: Int) -> Bool {
            skipSpace()
            guard let byte = peek else { return fail(.malformed) }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < maxDepth else { return fail(.tooDeep) }
                return object(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < maxDepth else { return fail(.tooDeep) }
                return array(depth: depth + 1)
            case UInt8(ascii: "\""):
                return string(keeping: false) != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            index += 1
            var keys = Set<[UInt8]>()
            skipSpace()
            if peek == UInt8(ascii: "}") { index += 1; return true }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return fail(.malformed) }
                guard keys.insert(key).inserted else { return fail(.duplicateKey) }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return fail(.malformed) }
                index += 1
                guard value(depth: depth) else { return false }
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return true
                default: return fail(.malformed)
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            skipSpace()
            if peek == UInt8(ascii: "]") { index += 1; return true }
            while true {
                guard value(depth: depth) else { return false }
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return true
                default: return fail(.malformed)
                }
            }
        }

        /// The string's content, unescaped (as UTF-8; `\u` escapes as UTF-8 of their scalar).
        /// A string's bytes (unescaped), or with `keeping` false only whether it is well formed (a value's
        /// content is not needed, only an object key's).
        mutating func string(keeping: Bool = true) -> [UInt8]? {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                // The run of plain bytes up to the next quote, backslash or control byte, in one step.
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
                if keeping, index > start { out.append(contentsOf: bytes[start..<index]) }
                guard let byte = peek else { break }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return out
                case UInt8(ascii: "\\"):
                    guard let escape = peek else { _ = fail(.malformed); return nil }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { _ = fail(.malformed); return nil }
                        if (0xD800..<0xDC00).contains(scalar), peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { _ = fail(.malformed); return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
                    default:
                        _ = fail(.malformed)
                        return nil
                    }
                default:
                    guard byte >= 0x20 else { _ = fail(.malformed); return nil }
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

        mutating func number() -> Bool {
            let start = index
            while let byte = peek, (48...57).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                index += 1
            }
            return index > start ? true : fail(.malformed)
        }
    }
}
