/// Why a QR code could not be made.
///
/// Callers switch on ``code``; new codes may be added. The ``message`` names sizes and settings only,
/// never the payload, so it is safe to log even when the payload is a secret (an `otpauth://` URI, say).
public struct QRCodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in a form callers can compare against. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The payload does not fit in a version 40 symbol (or the largest allowed version) at the
        /// requested error correction level.
        public static let dataTooLong = Code("qr.data_too_long")
        /// A version outside 1...40 was requested.
        public static let invalidVersion = Code("qr.invalid_version")
        /// A mask pattern outside 0...7 was requested.
        public static let invalidMask = Code("qr.invalid_mask")
    }

    /// The kind of failure.
    public let code: Code
    /// A description safe to log: it holds lengths and settings, never payload bytes.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func dataTooLong(
        byteCount: Int, capacity: Int, errorCorrection: QRErrorCorrection
    ) -> QRCodeError {
        QRCodeError(
            code: .dataTooLong,
            message: "QR payload of \(byteCount) bytes exceeds the \(capacity)-byte capacity of version 40 "
                + "at error correction level \(errorCorrection.letter)"
        )
    }

    static func invalidVersion(_ version: Int) -> QRCodeError {
        QRCodeError(code: .invalidVersion, message: "QR version \(version) is outside 1...40")
    }

    static func invalidMask(_ mask: Int) -> QRCodeError {
        QRCodeError(code: .invalidMask, message: "QR mask pattern \(mask) is outside 0...7")
    }
}
