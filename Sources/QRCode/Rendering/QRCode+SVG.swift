extension QRCode {
    /// The symbol as a standalone SVG document.
    ///
    /// The drawing is in module units (`viewBox` is `0 0 n n` with n = size + 2 × quietZone) and scaled by
    /// `width` and `height` to `moduleSize` user units a module. A white rectangle fills the background,
    /// including the quiet zone, and one black path with `shape-rendering="crispEdges"` draws the dark
    /// modules, each horizontal run of them as one rectangle.
    ///
    /// - Parameters:
    ///   - moduleSize: Units per module side in the document's width and height; 8 by default.
    ///   - quietZone: Light modules around the symbol; the standard asks for at least 4, the default.
    /// - Returns: The SVG document, UTF-8 text with an XML declaration.
    /// - Precondition: `moduleSize` is at least 1 and `quietZone` at least 0.
    public func svg(moduleSize: Int = 8, quietZone: Int = 4) -> String {
        precondition(moduleSize >= 1, "moduleSize must be at least 1")
        precondition(quietZone >= 0, "quietZone must not be negative")
        let across = size + 2 * quietZone
        let pixels = across * moduleSize

        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard self[x, y] else {
                    x += 1
                    continue
                }
                let start = x
                while x < size && self[x, y] { x += 1 }
                if !path.isEmpty { path += " " }
                path += "M\(start + quietZone) \(y + quietZone)h\(x - start)v1h-\(x - start)z"
            }
        }

        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(pixels)" height="\(pixels)" \
            viewBox="0 0 \(across) \(across)" shape-rendering="crispEdges">
            <rect width="\(across)" height="\(across)" fill="#ffffff"/>
            <path fill="#000000" d="\(path)"/>
            </svg>

            """
    }
}
