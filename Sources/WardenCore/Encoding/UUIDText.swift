public import Foundation

extension UUID {
    /// Parses the canonical text form, `8-4-4-4-12` hexadecimal digits in either case, as
    /// `UUID(uuidString:)` does, without the `sscanf` Foundation uses on Linux (a few percent of a
    /// session check went to it).
    public init?(text: some StringProtocol) {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed: Bool
        if let fast = text.utf8.withContiguousStorageIfAvailable({ Self.parse($0, into: &bytes) }) {
            parsed = fast
        } else {
            parsed = Array(text.utf8).withUnsafeBufferPointer { Self.parse($0, into: &bytes) }
        }
        guard parsed else { return nil }
        self.init(uuid: bytes)
    }

    /// ``init(text:)`` over the text's UTF-8 bytes, read in place.
    public init?(utf8 text: UnsafeRawBufferPointer) {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        guard Self.parse(text.assumingMemoryBound(to: UInt8.self), into: &bytes) else { return nil }
        self.init(uuid: bytes)
    }

    /// The canonical text form in lower case (what Warden stores and puts in tokens), without Foundation's
    /// `sprintf`-based `uuidString`.
    public var lowercasedText: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { output in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        output[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    output[position] = digits[Int(byte >> 4)]
                    output[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>, into bytes: inout uuid_t) -> Bool {
        guard text.count == 36 else { return false }
        return withUnsafeMutableBytes(of: &bytes) { raw in
            var byteIndex = 0
            var position = 0
            while position < 36 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                    continue
                }
                guard let high = nibble(text[position]), let low = nibble(text[position + 1]) else { return false }
                raw[byteIndex] = high << 4 | low
                byteIndex += 1
                position += 2
            }
            return true
        }
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
