import Testing

@testable import QRCode

@Suite("Data bit stream and interleaving")
struct DataCodewordsTests {
    @Test("byte mode: mode indicator, 8-bit count, data, terminator, then alternating pad codewords")
    func shortPayload() {
        let layout = SymbolLayout(version: 1, errorCorrection: .medium)
        // 0100 | 00000101 | 'hello' | 0000, which ends on a byte boundary: no padding bits, no 0x00 byte.
        let expected: [UInt8] = [
            0x40, 0x56, 0x86, 0x56, 0xC6, 0xC6, 0xF0, 0xEC, 0x11, 0xEC, 0x11, 0xEC,
            0x11, 0xEC, 0x11, 0xEC,
        ]
        #expect(DataCodewords.byteMode(Array("hello".utf8), layout: layout) == expected)
    }

    @Test("byte mode from version 10 uses a 16-bit count")
    func sixteenBitCount() {
        let layout = SymbolLayout(version: 10, errorCorrection: .high)
        let data = DataCodewords.byteMode([0xAB], layout: layout)
        // 0100 | 0000000000000001 | 10101011 | 0000 → 0x40 0x00 0x1A 0xB0, then pads.
        #expect(Array(data.prefix(6)) == [0x40, 0x00, 0x1A, 0xB0, 0xEC, 0x11])
        #expect(data.count == layout.dataCodewords)
    }

    @Test("a payload at full capacity leaves room for only part of the terminator and no pad codewords")
    func fullCapacity() {
        let layout = SymbolLayout(version: 1, errorCorrection: .high)  // 9 data codewords, 7 payload bytes
        let data = DataCodewords.byteMode([UInt8](repeating: 0xFF, count: 7), layout: layout)
        // 4 + 8 + 56 = 68 bits; the 4 remaining bits take the terminator and nothing else is added.
        #expect(data == [0x40, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0])
    }

    @Test("interleaving takes one codeword from each block in turn, long blocks last, then the error correction")
    func interleavingOrder() {
        let layout = SymbolLayout(version: 5, errorCorrection: .quartile)  // 2 × 15 and 2 × 16, 18 EC each
        let data = (0..<62).map { UInt8($0) }
        let message = DataCodewords.interleaved(data, layout: layout)
        #expect(message.count == 134)
        #expect(Array(message.prefix(8)) == [0, 15, 30, 46, 1, 16, 31, 47])
        // The 16th codewords exist only in the two group-2 blocks.
        #expect(Array(message[58..<62]) == [44, 60, 45, 61])
        let blocks = [data[0..<15], data[15..<30], data[30..<46], data[46..<62]]
        let corrections = blocks.map { ReedSolomonEncoder(degree: 18).remainder(of: $0) }
        #expect(Array(message[62..<66]) == corrections.map { $0[0] })
        #expect(Array(message.suffix(4)) == corrections.map { $0[17] })
    }
}
