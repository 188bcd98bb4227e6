import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies into typed values: `application/json` required (415 otherwise: a browser can
/// send `text/plain` cross-site without a preflight), the size limit checked before and while reading,
/// nesting depth and duplicate keys refused before decoding (a gateway may read the first of two
/// `username`s where a decoder takes the last), a JSON object required.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int, maxDepth: Int) async throws -> T {
        let bytes = try await read(request, limit: limit)
        try refuse(JSONShape.check(bytes, maxDepth: maxDepth), maxDepth: maxDepth)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as APIError {
            throw error
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError.badRequest("`\(key.stringValue)` is required")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw APIError.badRequest("`\(context.codingPath.map(\.stringValue).joined(separator: "."))` has the wrong type")
        } catch {
            throw APIError.badRequest("the body does not match the operation's schema")
        }
    }

    /// The body as a parsed tree, after the same checks as ``decode(_:_:limit:maxDepth:)`` (one pass over
    /// the bytes: for bodies large enough that decoding them twice shows, such as field-encryption
    /// batches).
    static func tree(_ request: Request, limit: Int, maxDepth: Int) async throws -> JSONShape.Tree {
        let bytes = try await read(request, limit: limit)
        let (verdict, tree) = JSONShape.tree(bytes, maxDepth: maxDepth)
        try refuse(verdict, maxDepth: maxDepth)
        guard let tree else { throw APIError.badRequest("the body is not valid JSON") }
        return tree
    }

    /// The body as a Foundation object, after the same checks as ``decode(_:_:limit:maxDepth:)`` (for
    /// bodies that carry a nested object to pass on as JSON, such as a WebAuthn credential).
    static func object(_ request: Request, limit: Int, maxDepth: Int) async throws -> [String: Any] {
        let bytes = try await read(request, limit: limit)
        try refuse(JSONShape.check(bytes, maxDepth: maxDepth), maxDepth: maxDepth)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { throw APIError.badRequest("the body must be a JSON object") }
        return object
    }

    private static func refuse(_ verdict: JSONShape.Verdict, maxDepth: Int) throws {
        switch verdict {
        case .valid: break
        case .tooDeep: throw APIError.badRequest("the JSON nests deeper than \(maxDepth) levels")
        case .duplicateKey: throw APIError.badRequest("the JSON object has a duplicate key")
        case .notAnObject: throw APIError.badRequest("the body must be a JSON object")
        case .malformed: throw APIError.badRequest("the body is not valid JSON")
        }
    }

    static func read(_ request: Request, limit: Int) async throws -> [UInt8] {
        guard let contentType = request.headers[.contentType], isJSON(contentType) else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "the body must be sent as application/json")
        }
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
        return bytes
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`), in any case.
    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return media == "application/json"
    }
}

/// Length and shape checks for decoded fields. Lengths count Unicode scalars, as JSON Schema's
/// `maxLength` does (grapheme clusters would let one letter carry 60,000 combining marks).
enum Field {
    static func text(_ value: String, _ name: String, max: Int, min: Int = 0) throws -> String {
        let count = value.unicodeScalars.count
        guard count <= max, count >= min else {
            throw APIError.badRequest(min > 0 ? "`\(name)` must be \(min)–\(max) characters" : "`\(name)` must be at most \(max) characters")
        }
        return value
    }

    static func optional(_ value: String?, _ name: String, max: Int) throws -> String? {
        try value.map { try text($0, name, max: max) }
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

    /// A body that writes itself (a hot path's: no dictionary of existentials is built).
    static func make(_ status: HTTPResponse.Status = .ok, writing value: some JSONWritable) -> Response {
        var buffer = ByteBuffer()
        value.writeJSON(into: &buffer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    /// `2026-11-29T08:24:52Z`: whole seconds (rounded down), UTC, as `Date.ISO8601FormatStyle()` writes it,
    /// without its cost (a session listing formats three per session).
    static func timestamp(_ date: Date) -> String {
        var buffer = ByteBuffer()
        writeTimestamp(date, into: &buffer)
        return String(buffer: buffer)
    }

    /// ``timestamp(_:)``'s 20 bytes, written into `buffer` (no string is made).
    static func writeTimestamp(_ date: Date, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { writeTimestamp(date, to: $0) }
    }

    /// ``timestamp(_:)``'s 20 bytes, written at the start of `bytes` (at least 20 long); returns 20.
    static func writeTimestamp(_ date: Date, to bytes: UnsafeMutableRawBufferPointer) -> Int {
        precondition(bytes.count >= 20)
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
        // One write of the 20 bytes (a write per byte costs more than the arithmetic).
        var index = 0
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes[index] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                index += 1
                divisor /= 10
            }
        }
        func byte(_ value: UInt8) {
            bytes[index] = value
            index += 1
        }
        digits(year, 4)
        byte(UInt8(ascii: "-"))
        digits(month, 2)
        byte(UInt8(ascii: "-"))
        digits(day, 2)
        byte(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        byte(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        byte(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        byte(UInt8(ascii: "Z"))
        return index
    }
}
