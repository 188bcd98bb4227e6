import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// A console page as a browser would hold it: status, headers, HTML, and the forms in it.
struct ConsolePage {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: String

    var location: String? { headers[.location] }
    var contentType: String { headers[.contentType] ?? "" }
    var isHTML: Bool { contentType.hasPrefix("text/html") }

    /// The HTML of the form posting to `action` (its tag to its `</form>`).
    func form(_ action: String) -> Substring? {
        guard let start = body.range(of: "action=\"\(action)\"") else { return nil }
        let rest = body[start.lowerBound...]
        return rest.range(of: "</form>").map { rest[..<$0.lowerBound] } ?? rest
    }

    /// The value of the input `name` in the form posting to `action`.
    func field(_ name: String, in action: String) -> String? {
        guard let form = form(action), let input = form.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let value = form[input.upperBound...]
        return value.firstIndex(of: "\"").map { String(value[..<$0]) }
    }

    /// The value of the attribute `name` of the form posting to `action`, unescaped.
    func attribute(_ name: String, in action: String) -> String? {
        guard let form = form(action), let tag = form.firstIndex(of: ">"), let start = form[..<tag].range(of: "\(name)=\"") else { return nil }
        let value = form[start.upperBound...]
        return value.firstIndex(of: "\"").map {
            String(value[..<$0]).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    /// The form token (`csrf`) of the form posting to `action`.
    func csrf(_ action: String) throws -> String {
        try #require(field("csrf", in: action), "no form posting to \(action) in \(status): \(body.prefix(300))")
    }

    /// The texts of the error messages shown (flash and field errors), in order.
    var errors: [String] {
        var found: [String] = []
        for marker in ["<div class=\"flash error\" role=\"alert\">", "<p class=\"field-error\""] {
            var rest = body[...]
            while let start = rest.range(of: marker) {
                var text = rest[start.upperBound...]
                if marker.hasPrefix("<p"), let close = text.firstIndex(of: ">") { text = text[text.index(after: close)...] }
                guard let end = text.range(of: "</") else { break }
                found.append(String(text[..<end.lowerBound]))
                rest = text[end.upperBound...]
            }
        }
        return found
    }
}

/// The cookies a browser keeps between console requests (`Set-Cookie` in, `Cookie` out).
struct CookieJar {
    private(set) var values: [String: String] = [:]
    /// Every `Set-Cookie` seen, as sent.
    private(set) var received: [String] = []

    mutating func take(_ headers: HTTPFields) {
        for cookie in headers[values: .setCookie] {
            received.append(cookie)
            let pair = cookie.split(separator: ";", maxSplits: 1)[0]
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            if value.isEmpty || cookie.contains("Max-Age=0") { values[name] = nil } else { values[name] = value }
        }
    }

    var header: String { values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

/// Encodes form fields as `application/x-www-form-urlencoded`.
func formEncoded(_ fields: KeyValuePairs<String, String>) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return fields.map { "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
        .joined(separator: "&")
}

/// What a same-origin form post from the console carries (the router client's authority is `localhost`).
let consoleFormHeaders: HTTPFields = [.origin: "http://localhost", .contentType: "application/x-www-form-urlencoded"]

extension TestClientProtocol {
    /// GETs a console path with the jar's cookies, keeping the ones set.
    func page(_ path: String, _ jar: inout CookieJar) async throws -> ConsolePage {
        try await send(.get, path, body: nil, headers: [:], &jar)
    }

    /// POSTs `body` (form-encoded unless `headers` say otherwise) with the jar's cookies.
    func post(_ path: String, _ body: String, headers: HTTPFields = consoleFormHeaders, _ jar: inout CookieJar) async throws -> ConsolePage {
        try await send(.post, path, body: body, headers: headers, &jar)
    }

    /// POSTs `fields` to the form posting to `action` on `page`, with that form's token.
    func submit(_ page: ConsolePage, _ action: String, _ fields: KeyValuePairs<String, String>, _ jar: inout CookieJar) async throws -> ConsolePage {
        let token = try page.csrf(action)
        let body = formEncoded(fields) + (fields.isEmpty ? "" : "&") + formEncoded(["csrf": token])
        return try await post(action, body, &jar)
    }

    /// GETs `path` and submits its form posting to `action` (default: `path`) with `fields`.
    func fill(_ path: String, action: String? = nil, _ fields: KeyValuePairs<String, String>, _ jar: inout CookieJar) async throws -> ConsolePage {
        let form = try await page(path, &jar)
        return try await submit(form, action ?? path, fields, &jar)
    }

    func send(_ method: HTTPRequest.Method, _ path: String, body: String?, headers: HTTPFields, _ jar: inout CookieJar) async throws -> ConsolePage {
        var headers = headers
        if !jar.values.isEmpty { headers[.cookie] = jar.header }
        let page = try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            ConsolePage(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
        jar.take(page.headers)
        return page
    }

    /// Signs in through the console's password form; the jar then holds the session cookies.
    func consoleSignIn(_ username: String, password: String = "correct horse battery staple", _ jar: inout CookieJar) async throws {
        let signIn = try await page("/console/sign-in", &jar)
        let answer = try await submit(signIn, "/console/sign-in", ["username": username, "password": password], &jar)
        #expect(answer.status == .seeOther && answer.location == "/console/account", "\(answer.status) \(answer.errors)")
        #expect(jar.values["__Host-warden-session"] != nil)
    }
}
