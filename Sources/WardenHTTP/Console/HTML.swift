import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// HTML built as text, with every value escaped where it is inserted: a page is a handful of these
/// fragments, rendered in one pass (no template engine, no reflection).
struct HTML: Sendable {
    private(set) var text: String

    init(raw: String = "") { text = raw }

    /// `value` with `& < > " '` replaced: safe in element content and in quoted attribute values.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Appends markup written by Warden (never a value from a request or a store).
    mutating func raw(_ markup: String) { text += markup }

    /// Appends a value as text.
    mutating func text(_ value: String) { text += Self.escape(value) }

    mutating func append(_ other: HTML) { text += other.text }

    /// `<tag>text</tag>`.
    mutating func element(_ tag: String, _ value: String, attributes: String = "") {
        text += "<\(tag)\(attributes.isEmpty ? "" : " " + attributes)>" + Self.escape(value) + "</\(tag)>"
    }
}

extension String {
    /// The value, escaped for HTML.
    var html: String { HTML.escape(self) }
}

/// What the console's responses share: the content type, the strict policy and no caching.
enum ConsoleResponse {
    /// The console's Content-Security-Policy: its own scripts, styles and images only (the QR image is a
    /// `data:` PNG), no inline script or style, forms posting only to itself.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func page(_ html: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 to `location` (after a form: the browser then GETs the page).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    static func download(_ text: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A submitted `application/x-www-form-urlencoded` form: the first value of each name (a repeated name
/// is refused: a proxy and Warden could read different ones), bounded in size and count.
struct FormBody: Sendable {
    private(set) var values: [String: String] = [:]

    static let maxBytes = 64 * 1024
    static let maxFields = 64

    enum Failure: Error { case tooLarge, malformed, wrongType }

    static func read(_ request: Request) async throws(Failure) -> FormBody {
        guard let type = request.headers[.contentType]?.lowercased(), type.hasPrefix("application/x-www-form-urlencoded") else { throw .wrongType }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw .tooLarge }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxBytes) } catch { throw .tooLarge }
        return try parse(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parse(_ body: String) throws(Failure) -> FormBody {
        var form = FormBody()
        guard !body.isEmpty else { return form }
        let pairs = body.split(separator: "&", omittingEmptySubsequences: true)
        guard pairs.count <= maxFields else { throw .tooLarge }
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { throw .malformed }
            guard form.values[name] == nil else { throw .malformed }
            form.values[name] = value
        }
        return form
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(_ name: String) -> String? { values[name] }

    /// The field, trimmed of surrounding whitespace; `nil` when absent or empty.
    func trimmed(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
