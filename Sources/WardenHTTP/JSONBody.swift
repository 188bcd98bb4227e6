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
        // Force-try: the objects built by the routes hold only strings, numbers, booleans, arrays and dictionaries.
        // Unsorted keys: sorting costs more than the rest of serialisation for a session listing.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response { Response(status: .noContent) }

    static func timestamp(_ date: Date) -> String { date.formatted(Self.iso8601) }

    private static let iso8601 = Date.ISO8601FormatStyle()
}
