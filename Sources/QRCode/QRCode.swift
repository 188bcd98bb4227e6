/// A QR code symbol (ISO/IEC 18004, Model 2) holding a payload in byte mode.
///
/// Making one picks the smallest version (1...40) that holds the payload at the requested error
/// correction level, adds Reed–Solomon error correction, places the codewords and chooses a mask by the
/// standard's penalty score. Read the result module by module, or render it with
/// ``png(moduleSize:quietZone:)`` or ``svg(moduleSize:quietZone:)``.
///
/// ```swift
/// let code = try QRCode(text: "otpauth://totp/Warden:alice?secret=JBSWY3DPEHPK3PXP&issuer=Warden")
/// let image: [UInt8] = code.png()
/// ```
///
/// - Important: A QR code is a picture of its payload, not a protection of it. A code that carries a
///   TOTP secret must be shown only to its owner, over an authenticated session, and never cached, logged
///   or stored. Errors from this type never contain payload bytes.
public struct QRCode: Sendable {
    /// The symbol version, 1...40; the side is 4 × version + 17 modules.
    public let version: Int
    /// The error correction level.
    public let errorCorrection: QRErrorCorrection
    /// The data mask pattern applied, 0...7.
    public let mask: Int
    /// Modules row-major, dark as `true` (internal so the tests can score and compare whole symbols).
    let modules: [Bool]

    /// The number of modules along each side, without the quiet zone.
    public var size: Int { 4 * version + 17 }

    /// Whether the module in column `x` and row `y` is dark; (0, 0) is the top-left corner.
    ///
    /// - Precondition: `x` and `y` are in `0..<size`.
    public subscript(x: Int, y: Int) -> Bool {
        precondition((0..<size).contains(x) && (0..<size).contains(y), "module (\(x), \(y)) is outside the symbol")
        return modules[y * size + x]
    }

    /// Encodes `bytes` in byte mode.
    ///
    /// - Parameters:
    ///   - bytes: The payload. Decoders usually read byte-mode data as UTF-8 or ISO 8859-1 text; use
    ///     ``init(text:errorCorrection:minimumVersion:mask:)`` for text.
    ///   - errorCorrection: The error correction level; `.medium` by default.
    ///   - minimumVersion: The smallest version to consider (1...40); a larger one is chosen when the
    ///     payload needs it.
    ///   - mask: The data mask pattern (0...7), or `nil` to evaluate all eight and keep the one with the
    ///     lowest penalty score. Fixing it is for reproducing a particular symbol.
    /// - Throws: ``QRCodeError`` with code `.invalidVersion` or `.invalidMask` for out-of-range arguments,
    ///   or `.dataTooLong` when the payload does not fit in version 40 at the requested level.
    public init(
        bytes: some Collection<UInt8>,
        errorCorrection: QRErrorCorrection = .medium,
        minimumVersion: Int = 1,
        mask: Int? = nil
    ) throws(QRCodeError) {
        guard (1...40).contains(minimumVersion) else { throw .invalidVersion(minimumVersion) }
        if let mask, !(0..<8).contains(mask) { throw .invalidMask(mask) }
        let payload = Array(bytes)
        guard
            let layout = (minimumVersion...40).lazy
                .map({ SymbolLayout(version: $0, errorCorrection: errorCorrection) })
                .first(where: { $0.byteCapacity >= payload.count })
        else {
            let capacity = SymbolLayout(version: 40, errorCorrection: errorCorrection).byteCapacity
            throw .dataTooLong(byteCount: payload.count, capacity: capacity, errorCorrection: errorCorrection)
        }

        self.init(
            dataCodewords: DataCodewords.byteMode(payload, layout: layout), layout: layout,
            errorCorrection: errorCorrection, mask: mask)
    }

    /// Builds the symbol for data codewords that are already encoded and padded: error correction,
    /// interleaving, placement, masking and format information.
    ///
    /// Internal so that tests can reproduce symbols from other encoders' bit streams.
    init(dataCodewords: [UInt8], layout: SymbolLayout, errorCorrection: QRErrorCorrection, mask: Int?) {
        var grid = ModuleGrid(version: layout.version)
        grid.placeCodewords(DataCodewords.interleaved(dataCodewords, layout: layout))
        let chosen = mask ?? Self.lowestPenaltyMask(for: grid, errorCorrection: errorCorrection)
        grid.applyMask(chosen)
        grid.drawFormatInformation(errorCorrection: errorCorrection, mask: chosen)

        self.version = layout.version
        self.errorCorrection = errorCorrection
        self.mask = chosen
        self.modules = grid.modules
    }

    /// Encodes the UTF-8 bytes of `text` in byte mode.
    ///
    /// No ECI designator is written: current readers take byte-mode data as UTF-8 when it is valid
    /// UTF-8, and ASCII (an `otpauth://` URI, for one) reads the same under every interpretation.
    ///
    /// - Parameters:
    ///   - text: The text to encode.
    ///   - errorCorrection: The error correction level; `.medium` by default.
    ///   - minimumVersion: The smallest version to consider (1...40).
    ///   - mask: The data mask pattern (0...7), or `nil` to choose by penalty score.
    /// - Throws: ``QRCodeError`` as ``init(bytes:errorCorrection:minimumVersion:mask:)`` does.
    public init(
        text: String,
        errorCorrection: QRErrorCorrection = .medium,
        minimumVersion: Int = 1,
        mask: Int? = nil
    ) throws(QRCodeError) {
        try self.init(
            bytes: text.utf8, errorCorrection: errorCorrection, minimumVersion: minimumVersion, mask: mask)
    }

    /// The mask whose complete symbol (format information included) scores lowest; the lowest-numbered
    /// mask wins a tie.
    private static func lowestPenaltyMask(for grid: ModuleGrid, errorCorrection: QRErrorCorrection) -> Int {
        var best = (mask: 0, penalty: Int.max)
        for mask in 0..<8 {
            // A copy of the grid shares its storage until the first write, which copies the modules once.
            var candidate = grid
            candidate.applyMask(mask)
            candidate.drawFormatInformation(errorCorrection: errorCorrection, mask: mask)
            let penalty = MaskPenalty.score(candidate.modules, size: candidate.size).total
            if penalty < best.penalty { best = (mask, penalty) }
        }
        return best.mask
    }
}
