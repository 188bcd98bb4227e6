import Foundation
import Testing
import WardenCore

/// `StoredInstant` replaced the stores' own `* 1000` conversions: it must write exactly what they wrote.
struct StoredInstantTests {
    static let dates: [Date] = [
        Date(timeIntervalSince1970: 0),
        Date(timeIntervalSince1970: 1_800_000_000),
        Date(timeIntervalSince1970: 1_800_000_000.123),
        Date(timeIntervalSince1970: 1_800_000_000.1234),
        Date(timeIntervalSince1970: 1_800_000_000.1235),
        Date(timeIntervalSince1970: 1_800_000_000.9996),
        Date(timeIntervalSince1970: 1_764_460_800.000_499),
        Date(timeIntervalSince1970: -1.5),
    ]

    @Test(arguments: dates)
    func writesWhatTheStoresWrote(_ date: Date) {
        // SQLStore's and the Redis session store's former `Date` helpers, and AuditEvent's hashed form.
        #expect(StoredInstant(date).milliseconds == Int64((date.timeIntervalSince1970 * 1000).rounded()))
        // The key-usage and schema-history writers, and the services' "now in whole milliseconds".
        #expect(StoredInstant(truncating: date).milliseconds == Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        #expect(StoredInstant(truncating: date).date == Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
    }

    @Test func readsBackTheSameInstant() {
        let instant = StoredInstant(milliseconds: 1_800_000_000_123)
        #expect(instant.date == Date(timeIntervalSince1970: 1_800_000_000.123))
        #expect(StoredInstant(instant.date) == instant && StoredInstant(truncating: instant.date) == instant)
        #expect(StoredInstant(milliseconds: 1) < StoredInstant(milliseconds: 2))
        #expect(instant.description == "1800000000123")
    }

    @Test func nearestAndTruncatedDifferOnlyInTheFraction() {
        let date = Date(timeIntervalSince1970: 1_800_000_000.1237)
        #expect(StoredInstant(date).milliseconds == 1_800_000_000_124)
        #expect(StoredInstant(truncating: date).milliseconds == 1_800_000_000_123)
    }

    @Test func codableAsABareInteger() throws {
        let instants = [StoredInstant(milliseconds: 1_800_000_000_123), StoredInstant(milliseconds: -5)]
        let json = String(decoding: try JSONEncoder().encode(instants), as: UTF8.self)
        #expect(json == "[1800000000123,-5]")
        #expect(try JSONDecoder().decode([StoredInstant].self, from: Data(json.utf8)) == instants)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([StoredInstant].self, from: Data("[1.5]".utf8)) }
    }
}
