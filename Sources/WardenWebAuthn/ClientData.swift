import Foundation
import WardenCore

/// The client data a browser collects and the authenticator signs a hash of (WebAuthn L3 §5.8.1).
///
/// Read with `JSONDecoder`: the input must be a JSON object of at most 16 KiB with `type`, `challenge`
/// and `origin` strings; `crossOrigin` is a boolean and `topOrigin` a string when present. Other members
/// (`extraData`, future fields) are ignored, as §5.8.1.2 asks. The challenge must be unpadded base64url.
public struct ClientData: Sendable {
    /// Largest `clientDataJSON` accepted.
    public static let maxLength = 16_384

    /// `"webauthn.create"` or `"webauthn.get"`.
    public let type: String
    /// The challenge, decoded.
    public let challenge: [UInt8]
    /// The origin of the page that called the API, e.g. `https://example.org`.
    public let origin: String
    /// Whether the caller was in a cross-origin iframe; `false` when absent.
    public let crossOrigin: Bool
    /// The top-level origin when the caller was in an iframe.
    public let topOrigin: String?
    /// The bytes parsed, whose SHA-256 the authenticator signed.
    public let raw: [UInt8]

    private struct Fields: Decodable {
        let type: String
        let challenge: String
        let origin: String
        let crossOrigin: Bool?
        let topOrigin: String?
    }

    /// Parses `clientDataJSON`.
    ///
    /// - Throws: `WebAuthnError` `.tooLarge` over 16 KiB, `.malformed` for anything else wrong.
    public init(json: [UInt8]) throws(WebAuthnError) {
        guard json.count <= Self.maxLength else { throw .tooLarge("clientDataJSON is too large") }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(json))
        } catch {
            throw .malformed("clientDataJSON is not an object with type, challenge and origin")
        }
        guard let challenge = Base64.decode(fields.challenge, alphabet: .url, padding: .forbidden) else {
            throw .malformed("the challenge in clientDataJSON is not base64url")
        }
        type = fields.type
        self.challenge = challenge
        origin = fields.origin
        crossOrigin = fields.crossOrigin ?? false
        topOrigin = fields.topOrigin
        raw = json
    }
}
