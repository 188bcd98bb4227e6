public import Foundation

/// An RFC 6238 TOTP generator and checker for one secret.
public struct TOTP: Sendable {
    public let hotp: HOTP
    /// Seconds per step (default 30).
    public let period: Int

    public init(secret: [UInt8], algorithm: OTPAlgorithm = .sha1, digits: Int = 6, period: Int = 30) throws(MFAError) {
        guard (15...300).contains(period) else { throw MFAError(.invalidParameters, "the period must be 15 to 300 seconds") }
        hotp = try HOTP(secret: secret, algorithm: algorithm, digits: digits)
        self.period = period
    }

    /// The time step containing `date` (RFC 6238 `T`, with `T0` = 0).
    public func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    public func code(at date: Date) -> String {
        hotp.code(counter: UInt64(max(0, step(at: date))))
    }

    public func code(step: Int64) -> String {
        hotp.code(counter: UInt64(max(0, step)))
    }

    /// The step whose code `code` is, among the steps within `window` of `date`'s step and later than
    /// `after` (the last step already used), or `nil`.
    ///
    /// Every candidate is computed and compared without an early exit, and a code that is not exactly
    /// `digits` ASCII digits never matches.
    public func match(_ code: String, at date: Date, window: Int = 1, after: Int64? = nil) -> Int64? {
        let utf8 = code.utf8
        guard utf8.count == hotp.digits, utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let presented = utf8.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) }
        let now = step(at: date)
        var matched: Int64?
        for offset in -window...window {
            let candidate = now + Int64(offset)
            guard candidate >= 0 else { continue }
            let equal = (hotp.value(counter: UInt64(candidate)) ^ presented) == 0
            if equal, candidate > (after ?? -1), matched == nil { matched = candidate }
        }
        return matched
    }
}
