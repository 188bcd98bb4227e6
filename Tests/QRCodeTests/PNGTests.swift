import Testing

@testable import QRCode

/// Reads PNG files with code written for the test, sharing nothing with the writer: a bit-by-bit CRC-32,
/// a per-byte modulo Adler-32 and a parser for zlib streams of stored deflate blocks.
@Suite("PNG rendering")
struct PNGTests {
    private func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    private func slowAdler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    private func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    struct Image {
        var width = 0, height = 0, bitDepth = 0, colorType = 0
        var chunkTypes: [String] = []
        var storedBlocks: [Int] = []
        var scanlines: [UInt8] = []
    }

    /// Parses and checks a PNG made of stored blocks, recording an issue for every violation.
    private func parse(_ file: [UInt8]) throws -> Image {
        var image = Image()
        try #require(Array(file.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "signature")
        var offset = 8
        var idat: [UInt8] = []
        while offset < file.count {
            try #require(offset + 12 <= file.count, "truncated chunk")
            let length = Int(bigEndian(file[offset..<offset + 4]))
            let typeAndData = Array(file[offset + 4..<offset + 8 + length])
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            let crc = bigEndian(file[offset + 8 + length..<offset + 12 + length])
            #expect(crc == bitwiseCRC32(typeAndData), "CRC of \(type)")
            let data = Array(typeAndData.dropFirst(4))
            if type == "IHDR" {
                try #require(data.count == 13)
                image.width = Int(bigEndian(data[0..<4]))
                image.height = Int(bigEndian(data[4..<8]))
                image.bitDepth = Int(data[8])
                image.colorType = Int(data[9])
                #expect(data[10...12] == [0, 0, 0], "compression, filter and interlace methods")
            }
            if type == "IDAT" { idat += data }
            image.chunkTypes.append(type)
            offset += 12 + length
        }
        #expect(offset == file.count)

        // zlib: CMF/FLG header check, stored blocks, Adler-32 trailer.
        try #require(idat.count >= 6)
        #expect(idat[0] & 0x0F == 8, "deflate method")
        #expect((Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0, "zlib header check")
        #expect(idat[1] & 0x20 == 0, "no preset dictionary")
        var position = 2
        var final = false
        while !final {
            try #require(position + 5 <= idat.count, "truncated stored block")
            let header = idat[position]
            final = header & 1 == 1
            #expect(header >> 1 & 3 == 0, "block type 00 (stored)")
            let length = Int(idat[position + 1]) | Int(idat[position + 2]) << 8
            let complement = Int(idat[position + 3]) | Int(idat[position + 4]) << 8
            #expect(length ^ complement == 0xFFFF, "NLEN is the complement of LEN")
            try #require(position + 5 + length <= idat.count)
            image.scanlines += idat[position + 5..<position + 5 + length]
            image.storedBlocks.append(length)
            position += 5 + length
        }
        #expect(position + 4 == idat.count, "only the Adler-32 follows the final block")
        #expect(bigEndian(idat[position...]) == slowAdler32(image.scanlines), "Adler-32")
        return image
    }

    /// Whether the pixel at (x, y) of a 1-bit greyscale image is black.
    private func isBlack(_ image: Image, x: Int, y: Int) -> Bool {
        let rowBytes = 1 + (image.width + 7) / 8
        return image.scanlines[y * rowBytes + 1 + x / 8] & (0x80 >> (x % 8)) == 0
    }

    @Test("checksum implementations against published check values")
    func checksumVectors() {
        #expect(Checksums.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksums.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        var random = SeededBytes(seed: 7)
        let bytes = random.bytes(200_000) + [UInt8](repeating: 0xFF, count: 20_000)  // past 5552-byte batches
        #expect(Checksums.adler32(bytes) == slowAdler32(bytes))
        #expect(Checksums.crc32(bytes) == bitwiseCRC32(bytes))
        #expect(PNGWriter.zlibStored([]) == [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01])
    }

    @Test("structure, checksums and pixels", arguments: [(1, 1, 0), (1, 8, 4), (7, 3, 4), (40, 8, 4), (40, 1, 2)])
    func structure(version: Int, moduleSize: Int, quietZone: Int) throws {
        let code = try QRCode(text: "png \(version)", errorCorrection: .quartile, minimumVersion: version)
        let image = try parse(code.png(moduleSize: moduleSize, quietZone: quietZone))
        let side = (code.size + 2 * quietZone) * moduleSize
        #expect(image.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(image.width == side && image.height == side)
        #expect(image.bitDepth == 1 && image.colorType == 0)
        let rowBytes = 1 + (side + 7) / 8
        #expect(image.scanlines.count == side * rowBytes)
        #expect((0..<side).allSatisfy { image.scanlines[$0 * rowBytes] == 0 }, "filter type 0 on every row")
        // Stored blocks are full 65 535-byte blocks except the last.
        #expect(image.storedBlocks.dropLast().allSatisfy { $0 == 65_535 })
        #expect(image.storedBlocks.reduce(0, +) == image.scanlines.count)
        #expect(image.storedBlocks.count == (image.scanlines.count + 65_534) / 65_535)

        var mismatches = 0
        for y in 0..<side {
            for x in 0..<side {
                let moduleX = x / moduleSize - quietZone
                let moduleY = y / moduleSize - quietZone
                let inside = (0..<code.size).contains(moduleX) && (0..<code.size).contains(moduleY)
                if isBlack(image, x: x, y: y) != (inside && code[moduleX, moduleY]) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("a stream of exactly 65 535 bytes is one block; one more byte makes two")
    func storedBlockBoundary() {
        for (count, blocks) in [(65_535, 1), (65_536, 2), (131_070, 2), (131_071, 3)] {
            let stream = PNGWriter.zlibStored([UInt8](repeating: 0xA5, count: count))
            #expect(stream.count == 2 + 5 * blocks + count + 4, "\(count) bytes")
        }
    }
}
