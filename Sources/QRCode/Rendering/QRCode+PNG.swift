extension QRCode {
    /// The symbol as a black-and-white PNG image.
    ///
    /// The image is 1-bit greyscale, `(size + 2 × quietZone) × moduleSize` pixels square, dark modules
    /// black on white. The image data is stored uncompressed (see the PNG writer), so the file is about
    /// one eighth of a byte per pixel.
    ///
    /// - Parameters:
    ///   - moduleSize: Pixels per module side; 8 by default.
    ///   - quietZone: Light modules around the symbol; the standard asks for at least 4, the default.
    /// - Returns: The bytes of a PNG file.
    /// - Precondition: `moduleSize` is at least 1 and `quietZone` at least 0.
    public func png(moduleSize: Int = 8, quietZone: Int = 4) -> [UInt8] {
        precondition(moduleSize >= 1, "moduleSize must be at least 1")
        precondition(quietZone >= 0, "quietZone must not be negative")
        let modulesAcross = size + 2 * quietZone
        let (side, overflow) = modulesAcross.multipliedReportingOverflow(by: moduleSize)
        precondition(!overflow && side <= Int(Int32.max), "image too large")

        // One filter byte (0, none) per row, then 8 pixels a byte, most significant bit first; a set bit
        // is white. Bits past the last pixel of a row are padding and stay set.
        let rowBytes = 1 + (side + 7) / 8
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity(rowBytes * side)
        let lightRow = [0] + [UInt8](repeating: 0xFF, count: rowBytes - 1)
        for moduleY in 0..<modulesAcross {
            var row = lightRow
            let y = moduleY - quietZone
            if (0..<size).contains(y) {
                for x in 0..<size where self[x, y] {
                    let firstPixel = (x + quietZone) * moduleSize
                    for pixel in firstPixel..<firstPixel + moduleSize {
                        row[1 + pixel >> 3] &= ~(0x80 >> UInt8(pixel & 7))
                    }
                }
            }
            for _ in 0..<moduleSize { scanlines += row }
        }
        return PNGWriter.file(width: side, height: side, bitDepth: 1, colorType: 0, scanlines: scanlines)
    }
}
