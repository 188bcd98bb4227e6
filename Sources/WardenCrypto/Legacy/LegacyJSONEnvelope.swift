import Foundation
import WardenCore

/// The original system's AES-256-GCM envelope: UTF-8 JSON
/// `{"version": "v_YYYYMMDD_HHMMSS_<8 or 4 hex>", "iv": b64, "tag": b64, "data": b64, "algorithm": "AES-256-GCM"}`
/// with no associated data.
struct LegacyJSONEnvelope {
    let version: String
    let iv: [UInt8]
    let tag: [UInt8]
    let ciphertext: [UInt8]

    private static let keys: Set<String> = ["version", "iv", "tag", "data", "algorithm"]

    /// Parses strictly: a JSON object with exactly the five string fields, the algorithm the original
    /// wrote, a version in the original's pattern, a 12-byte IV and a 16-byte tag.
    ///
    /// - Returns: `nil` for a malformed envelope; ``versionIsValid(_:)`` is checked separately so the two
    ///   failures can be told apart in the audit trail.
    init?(json: some DataProtocol) {
        guard let fields = try? JSONDecoder().decode([String: String].self, from: Data(json)),
            Set(fields.keys) == Self.keys,
            fields["algorithm"] == "AES-256-GCM",
            let version = fields["version"],
            let iv = fields["iv"].flatMap({ Base64.decode($0) }), iv.count == 12,
            let tag = fields["tag"].flatMap({ Base64.decode($0) }), tag.count == 16,
            let ciphertext = fields["data"].flatMap({ Base64.decode($0) })
        else { return nil }
        self.version = version
        self.iv = iv
        self.tag = tag
        self.ciphertext = ciphertext
    }

    /// Whether `version` is what the original generated: `v_` + a real UTC date and time as
    /// `YYYYMMDD_HHMMSS` + `_` + 8 lowercase hex digits (its code), or 4 (its documentation's examples,
    /// e.g. `v_20240827_140523_a1b2`, which installations may have followed). The original derived a key
    /// for any string; Warden refuses everything else before spending a PBKDF2 derivation on it.
    static func versionIsValid(_ version: String) -> Bool {
        let bytes = Array(version.utf8)
        guard bytes.count == 26 || bytes.count == 22, bytes[0] == UInt8(ascii: "v"), bytes[1] == UInt8(ascii: "_"),
            bytes[10] == UInt8(ascii: "_"), bytes[17] == UInt8(ascii: "_")
        else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(2..<6), let month = number(6..<8), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(13..<15), let second = number(15..<17),
            (2000...2999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return false }
        let daysInMonth = [31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...daysInMonth[month - 1]).contains(day) else { return false }
        return bytes[18...].allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }
}
