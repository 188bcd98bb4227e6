import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import WardenAuth
import WardenCore
import WardenSessions

/// The console's browser session: the access and refresh tokens of an ordinary Warden session, each in a
/// `__Host-` cookie (Secure, HttpOnly, SameSite=Strict, Path=/), so revoking the session, logging out
/// everywhere or disabling the account ends the browser's session exactly as it ends a bearer token's.
enum ConsoleCookie {
    static let access = "__Host-warden-session"
    static let refresh = "__Host-warden-refresh"
    /// A random value for visitors who are not signed in, which their forms' tokens are bound to (a login
    /// form cannot be submitted from another site into the visitor's browser).
    static let visitor = "__Host-warden-visitor"

    static func set(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); Secure; HttpOnly; SameSite=Strict"
    }

    static func clear(_ name: String) -> String {
        "\(name)=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"
    }

    static var clearAll: [String] { [clear(access), clear(refresh)] }

    static func issued(_ issued: SessionService.Issued) -> [String] {
        let now = issued.session.lastActivity
        return [
            set(access, issued.accessToken, maxAge: max(1, Int(issued.refreshExpires.timeIntervalSince(now)))),
            set(refresh, issued.refreshToken, maxAge: max(1, Int(issued.refreshExpires.timeIntervalSince(now)))),
        ]
    }

    /// The value of the cookie `name` in the request (the first, if a browser sent it twice).
    static func value(_ request: Request, _ name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix(name + "=") else { continue }
                let value = trimmed.dropFirst(name.count + 1)
                return value.isEmpty || value.utf8.count > 4096 ? nil : String(value)
            }
        }
        return nil
    }
}

/// Form tokens (CSRF): `base64url(nonce ‖ expiry ‖ HMAC-SHA256(key, binding ‖ nonce ‖ expiry)[0..<16])`,
/// bound to the browser's Warden session (or, before sign-in, to its visitor cookie), expiring after an
/// hour, and accepted once: the nonce is claimed in the shared rate-limit store, so a token replayed on
/// any node is refused.
struct ConsoleForms: Sendable {
    let key: SymmetricKey
    let limiter: any RateLimitStore
    static let lifetime: TimeInterval = 3_600

    func token(binding: String, now: Date) -> String {
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255, using: &generator) }
        let expiry = UInt64(now.timeIntervalSince1970 + Self.lifetime)
        let body = nonce + Self.bytes(expiry)
        return Base64.encode(body + mac(binding: binding, body), alphabet: .url, padded: false)
    }

    enum Refusal: Error, Equatable { case missing, invalid, expired, reused, unavailable }

    /// Checks and uses up a token.
    func redeem(_ token: String?, binding: String, now: Date) async throws(Refusal) {
        guard let token, !token.isEmpty else { throw .missing }
        guard token.utf8.count == 54, let bytes = Base64.decode(token, alphabet: .url, padding: .forbidden), bytes.count == 40 else { throw .invalid }
        let body = Array(bytes[0..<24])
        guard Self.constantTimeEqual(mac(binding: binding, body), Array(bytes[24...])) else { throw .invalid }
        let expiry = body[16..<24].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard Double(expiry) > now.timeIntervalSince1970 else { throw .expired }
        let claim = "console.form:" + Hex.encode(Array(body[0..<16]))
        do {
            if try await RateLimit(limit: 1, window: Self.lifetime + 60).exceeded(key: claim, in: limiter, now: now) != nil { throw Refusal.reused }
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw .unavailable
        }
    }

    private func mac(binding: String, _ body: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Array("warden/console/form/v1\u{0}\(binding)\u{0}".utf8))
        hmac.update(data: body)
        return Array(Array(hmac.finalize()).prefix(16))
    }

    private static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
