import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies: size limit checked before and while reading (nothing beyond it is buffered),
/// nesting depth checked before parsing, a JSON object required.
struct JSONBody {
    let object: [String: Any]

    static func read(_ request: Request, limit: Int, maxDepth: Int) async throws -> JSONBody {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too_large", "the request body is larger than \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty else { throw APIError.badRequest("a JSON object body is required") }
        guard Self.depth(bytes) <= maxDepth else { throw APIError.badRequest("the JSON nests deeper than \(maxDepth) levels") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object")
        }
        return JSONBody(object: object)
    }

    /// The deepest nesting of arrays and objects, outside strings.
    static func depth(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// A required string field of at most `maxLength` characters.
    func string(_ key: String, maxLength: Int = 1024) throws -> String {
        guard let value = object[key] else { throw APIError.badRequest("`\(key)` is required") }
        guard let text = value as? String, text.count <= maxLength else { throw APIError.badRequest("`\(key)` must be a string of at most \(maxLength) characters") }
        return text
    }

    func optionalString(_ key: String, maxLength: Int = 1024) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String, text.count <= maxLength else { throw APIError.badRequest("`\(key)` must be a string of at most \(maxLength) characters") }
        return text
    }

    func optionalArray(_ key: String, maxCount: Int) throws -> [[String: Any]]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let items = value as? [[String: Any]], items.count <= maxCount else { throw APIError.badRequest("`\(key)` must be an array of at most \(maxCount) objects") }
        return items
    }
}

/// JSON responses.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status = .ok, _ object: [String: Any]) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(512)
        JSONWriter.write(object, into: &buffer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    /// `2026-11-29T08:24:52Z`: whole seconds (rounded down), UTC, as `Date.ISO8601FormatStyle()` writes it,
    /// without its cost (a session listing formats three per session).
    static func timestamp(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's algorithm.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        var bytes = [UInt8]()
        bytes.reserveCapacity(20)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
