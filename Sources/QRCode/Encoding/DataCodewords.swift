/// Builds the codeword sequence of a byte-mode symbol: the data bit stream (ISO/IEC 18004 7.4), its
/// division into blocks with error correction (7.5) and the interleaving of those blocks (7.6).
enum DataCodewords {
    /// The data codewords for `payload` in byte mode, padded to fill `layout`.
    ///
    /// The stream is the mode indicator 0100, the byte count (8 or 16 bits), the bytes, a terminator of
    /// up to four zero bits, zero bits to the next byte boundary, then the pad codewords 0xEC and 0x11 in
    /// turn until the data capacity is reached.
    static func byteMode(_ payload: [UInt8], layout: SymbolLayout) -> [UInt8] {
        precondition(payload.count <= layout.byteCapacity, "payload exceeds the layout's capacity")
        let capacityBits = layout.dataCodewords * 8
        var stream = BitStream(capacity: layout.dataCodewords)
        stream.append(0b0100, bits: 4)
        stream.append(payload.count, bits: layout.byteCountBits)
        for byte in payload { stream.append(Int(byte), bits: 8) }
        stream.append(0, bits: min(4, capacityBits - stream.bitCount))
        stream.append(0, bits: (8 - stream.bitCount % 8) % 8)
        var codewords = stream.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < layout.dataCodewords {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// The final message: `data` split into the layout's blocks, each block's error correction computed,
    /// then the data codewords interleaved across blocks followed by the error correction codewords
    /// interleaved the same way.
    static func interleaved(_ data: [UInt8], layout: SymbolLayout) -> [UInt8] {
        precondition(data.count == layout.dataCodewords, "data does not match the layout")
        let encoder = ReedSolomonEncoder(degree: layout.errorCorrectionPerBlock)
        var blocks: [ArraySlice<UInt8>] = []
        var errorCorrection: [[UInt8]] = []
        blocks.reserveCapacity(layout.blockCount)
        errorCorrection.reserveCapacity(layout.blockCount)
        var start = 0
        for group in [layout.group1, layout.group2] {
            for _ in 0..<group.count {
                let block = data[start..<start + group.dataCodewords]
                blocks.append(block)
                errorCorrection.append(encoder.remainder(of: block))
                start += group.dataCodewords
            }
        }

        var message: [UInt8] = []
        message.reserveCapacity(layout.totalCodewords)
        let longest = layout.group2.count > 0 ? layout.group2.dataCodewords : layout.group1.dataCodewords
        for offset in 0..<longest {
            for block in blocks where offset < block.count {
                message.append(block[block.startIndex + offset])
            }
        }
        for offset in 0..<layout.errorCorrectionPerBlock {
            for codewords in errorCorrection { message.append(codewords[offset]) }
        }
        assert(message.count == layout.totalCodewords)
        return message
    }
}

/// A most-significant-bit-first bit writer.
struct BitStream {
    private(set) var bytes: [UInt8] = []
    private(set) var bitCount = 0

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends the low `bits` bits of `value`, most significant first.
    mutating func append(_ value: Int, bits: Int) {
        precondition(bits >= 0 && bits <= 31 && value >> bits == 0, "value does not fit in \(bits) bits")
        for shift in stride(from: bits - 1, through: 0, by: -1) {
            if bitCount % 8 == 0 { bytes.append(0) }
            if (value >> shift) & 1 == 1 {
                bytes[bytes.count - 1] |= UInt8(0x80 >> (bitCount % 8))
            }
            bitCount += 1
        }
    }
}
