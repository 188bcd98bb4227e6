/// Writes a PNG file (ISO/IEC 15948) from raw scanlines, without compression.
///
/// The image data is a zlib stream (RFC 1950) of stored deflate blocks (RFC 1951, block type 00), each
/// holding at most 65 535 bytes, followed by the Adler-32 of the data. A QR code compresses well, but a
/// stored stream keeps this writer short and obviously correct; the files are a few hundred kilobytes at
/// most (version 40 at 8 pixels a module).
enum PNGWriter {
    /// The largest payload of one stored deflate block.
    static let maximumStoredBlock = 65_535

    /// A complete PNG file.
    ///
    /// - Parameters:
    ///   - width: Pixels per row.
    ///   - height: Rows.
    ///   - bitDepth: Bits per sample; 1 for a black-and-white image.
    ///   - colorType: 0 for greyscale.
    ///   - scanlines: The filtered image data: each row starts with its filter type byte.
    static func file(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, scanlines: [UInt8]) -> [UInt8] {
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        // Bit depth, colour type, compression method 0, filter method 0, no interlace.
        header += [bitDepth, colorType, 0, 0, 0]

        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", zlibStored(scanlines), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// `data` as a zlib stream of stored blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        let blocks = max(1, (data.count + maximumStoredBlock - 1) / maximumStoredBlock)
        var stream: [UInt8] = []
        stream.reserveCapacity(data.count + 5 * blocks + 6)
        // CMF 0x78: deflate with a 32 KiB window. FLG 0x01: no dictionary, fastest level, and
        // 0x7801 is a multiple of 31 as the header check requires.
        stream += [0x78, 0x01]
        for block in 0..<blocks {
            let start = block * maximumStoredBlock
            let end = min(start + maximumStoredBlock, data.count)
            let length = UInt16(end - start)
            // BFINAL on the last block, BTYPE 00 (stored); the rest of the byte pads to the boundary.
            stream.append(block == blocks - 1 ? 1 : 0)
            stream.appendLittleEndian(length)
            stream.appendLittleEndian(~length)
            stream += data[start..<end]
        }
        stream.appendBigEndian(Checksums.adler32(data))
        return stream
    }

    /// Appends a chunk: length, type, data and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file.appendBigEndian(UInt32(data.count))
        file += typeBytes
        file += data
        file.appendBigEndian(Checksums.crc32(data, continuing: Checksums.crc32(typeBytes)))
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    mutating func appendLittleEndian(_ value: UInt16) {
        append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)])
    }
}
