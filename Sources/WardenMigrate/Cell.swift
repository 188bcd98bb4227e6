public import Foundation
import WardenCrypto

/// One row's primary key: an integer or a text key (the two kinds `warden migrate` pages through).
public enum RowKey: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    case integer(Int64)
    case text(String)

    /// The key as it appears in contexts and reports.
    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .text(let value): value
        }
    }

    public static func < (lhs: RowKey, rhs: RowKey) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): a < b
        case (.text(let a), .text(let b)): Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        case (.integer, .text): true
        case (.text, .integer): false
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) { self = .integer(value) } else { self = .text(try container.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}

/// One cell as the database holds it. The storage class is kept: a value rewritten in a BLOB stays a
/// BLOB (Warden's binary envelope), one in a TEXT cell stays text (the text envelope).
public enum Cell: Sendable, Hashable, Codable {
    case null
    case text(String)
    case blob(Data)
    /// A number or another type that holds no ciphertext (reported, never rewritten).
    case other(String)

    var bytes: Data? {
        switch self {
        case .text(let text): Data(text.utf8)
        case .blob(let data): data
        case .null, .other: nil
        }
    }
}

/// What a cell holds, decided from its bytes alone (no key needed).
public enum ValueFormat: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case null
    case empty
    /// A Warden envelope, binary or text.
    case envelope
    /// The original's AES-256-GCM JSON envelope.
    case legacyJSON = "legacy-json"
    /// A Fernet token: raw (`DIGITAL_TWIN_ENCRYPTION_KEY` as the key) or the digital-twin wrapper; which
    /// one is known once opened.
    case fernet
    /// Text or bytes in no ciphertext format.
    case plaintext
    /// A number or another non-text value.
    case nonText = "non-text"
    /// Framed like a Warden envelope but not one: never rewritten (that would seal a ciphertext twice),
    /// reported by verification.
    case damagedEnvelope = "damaged-envelope"

    public static func < (lhs: ValueFormat, rhs: ValueFormat) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Detects the format of `cell`.
    public static func of(_ cell: Cell) -> ValueFormat {
        switch cell {
        case .null: return .null
        case .other: return .nonText
        case .text, .blob: break
        }
        guard let bytes = cell.bytes, !bytes.isEmpty else { return .empty }
        if case .blob(let data) = cell, data.count >= FieldEnvelope.overhead,
            data[data.startIndex] == FieldEnvelope.magic, data[data.startIndex + 1] == FieldEnvelope.formatVersion
        {
            return (try? FieldEnvelope(binary: data)) != nil ? .envelope : .damagedEnvelope
        }
        if bytes.starts(with: FieldEnvelope.textPrefix.utf8) {
            let text = String(decoding: bytes, as: UTF8.self)
            return (try? FieldEnvelope(text: text)) != nil ? .envelope : .damagedEnvelope
        }
        // A damaged token or envelope is still one (it then fails to open and stops the run): sealing it as
        // plaintext would hide the damage.
        if bytes.starts(with: "gAAAAA".utf8) { return .fernet }
        if bytes.first == UInt8(ascii: "{"), LegacyFormats.looksLikeJSONEnvelope(bytes) { return .legacyJSON }
        return .plaintext
    }

    /// Whether `warden migrate` rewrites values in this format.
    public func isRewritten(sealingPlaintext: Bool) -> Bool {
        switch self {
        case .legacyJSON, .fernet: true
        case .plaintext: sealingPlaintext
        case .null, .empty, .envelope, .nonText, .damagedEnvelope: false
        }
    }
}

enum LegacyFormats {
    /// A JSON object with the envelope's five members, or text that names its `algorithm` and `version`
    /// members (a truncated or edited envelope); checked fully when opened.
    static func looksLikeJSONEnvelope(_ bytes: Data) -> Bool {
        guard bytes.count < 1 << 22 else { return false }
        if let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] {
            return Set(object.keys) == ["version", "iv", "tag", "data", "algorithm"]
        }
        return bytes.range(of: Data(#""algorithm""#.utf8)) != nil || bytes.range(of: Data(#""version""#.utf8)) != nil
    }
}
