public import Foundation

/// An instant as Warden stores it: whole milliseconds since 1970-01-01 UTC, a 64-bit integer.
///
/// SQL columns (`BIGINT`, docs/formats.md), Redis session fields and the audit chain's hashed form keep
/// times at this precision. Converting through this type, rather than multiplying by 1000 where a value
/// is written, keeps every store rounding the same way: ``init(_:)`` takes the nearest millisecond (what
/// the stores have always written); ``init(truncating:)`` drops the fraction, for a time kept in memory
/// that must equal what a store reads back (the services' "now", an audit event's time).
///
/// Encoded (`Codable`) as the bare integer.
public struct StoredInstant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01 00:00:00 UTC.
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// `date` to the nearest millisecond.
    public init(_ date: Date) {
        self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `date` with its fraction of a millisecond dropped (rounded towards the past).
    public init(truncating date: Date) {
        self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }

    public static func < (lhs: StoredInstant, rhs: StoredInstant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public var description: String { String(milliseconds) }
}
