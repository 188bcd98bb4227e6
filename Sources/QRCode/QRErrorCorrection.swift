/// How much of a QR code can be damaged and still be read: the four levels of ISO/IEC 18004.
///
/// Higher levels spend more of the symbol on Reed–Solomon error correction codewords, so the same
/// payload needs a larger version. The recovery figures are approximate fractions of codewords.
public enum QRErrorCorrection: Sendable, Hashable, CaseIterable {
    /// Level L: about 7 % of codewords can be restored.
    case low
    /// Level M: about 15 % of codewords can be restored. The usual default.
    case medium
    /// Level Q: about 25 % of codewords can be restored.
    case quartile
    /// Level H: about 30 % of codewords can be restored.
    case high

    /// The two-bit indicator written into the format information (ISO/IEC 18004 table 12).
    ///
    /// The order is deliberately not L, M, Q, H: L is 01, M is 00, Q is 11 and H is 10.
    var formatIndicator: Int {
        switch self {
        case .low: 0b01
        case .medium: 0b00
        case .quartile: 0b11
        case .high: 0b10
        }
    }

    /// The position of this level in the per-level tables, ordered L, M, Q, H.
    var tableIndex: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .quartile: 2
        case .high: 3
        }
    }

    /// The one-letter name used by the standard (L, M, Q or H).
    var letter: String {
        switch self {
        case .low: "L"
        case .medium: "M"
        case .quartile: "Q"
        case .high: "H"
        }
    }
}
