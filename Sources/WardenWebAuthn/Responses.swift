import Foundation
import WardenCore

/// What a browser returns from `navigator.credentials.create()`, read from the JSON of
/// `PublicKeyCredential.toJSON()` (WebAuthn L3 §5.1.8, `RegistrationResponseJSON`).
///
/// `{id, rawId, type: "public-key", response: {clientDataJSON, attestationObject, transports?, …},
/// authenticatorAttachment?, clientExtensionResults}` with base64url byte fields. Members this type does
/// not name (`publicKey`, `authenticatorData`, extension results) are ignored: the attestation object is
/// the signed source of all of them.
public struct RegistrationResponse: Sendable {
    /// `rawId`, decoded.
    public let credentialID: [UInt8]
    public let clientDataJSON: [UInt8]
    public let attestationObject: [UInt8]
    /// Transport hints (`"internal"`, `"hybrid"`, `"usb"`, …), at most 8 of at most 32 characters.
    public let transports: [String]
    /// `"platform"` or `"cross-platform"` when the browser says.
    public let authenticatorAttachment: String?

    private struct JSON: Decodable {
        struct Response: Decodable {
            let clientDataJSON: String
            let attestationObject: String
            let transports: [String]?
        }
        let id: String
        let rawId: String
        let type: String
        let response: Response
        let authenticatorAttachment: String?
    }

    /// Parses the JSON (at most 128 KiB).
    ///
    /// - Throws: `WebAuthnError` `.tooLarge`, `.malformed` (not the shape above, bad base64url),
    ///   `.wrongType` (type is not `public-key`), `.credentialMismatch` (`id` ≠ `rawId`).
    public init(json: [UInt8]) throws(WebAuthnError) {
        let fields = try ResponseJSON.decode(JSON.self, from: json)
        credentialID = try ResponseJSON.credentialID(id: fields.id, rawId: fields.rawId, type: fields.type)
        clientDataJSON = try ResponseJSON.bytes(fields.response.clientDataJSON, limit: ClientData.maxLength)
        attestationObject = try ResponseJSON.bytes(fields.response.attestationObject, limit: AttestationObject.maxLength)
        let transports = fields.response.transports ?? []
        guard transports.count <= 8, transports.allSatisfy({ $0.utf8.count <= 32 }) else {
            throw .tooLarge("too many or too long transports")
        }
        self.transports = transports
        authenticatorAttachment = try ResponseJSON.attachment(fields.authenticatorAttachment)
    }
}

/// What a browser returns from `navigator.credentials.get()`, read from the JSON of
/// `PublicKeyCredential.toJSON()` (`AuthenticationResponseJSON`): `{id, rawId, type, response:
/// {clientDataJSON, authenticatorData, signature, userHandle?}, …}`.
public struct AssertionResponse: Sendable {
    /// `rawId`, decoded.
    public let credentialID: [UInt8]
    public let clientDataJSON: [UInt8]
    public let authenticatorData: [UInt8]
    public let signature: [UInt8]
    /// The user handle (the `user.id` given at registration), when the authenticator returns it; an
    /// empty handle reads as `nil`.
    public let userHandle: [UInt8]?
    public let authenticatorAttachment: String?

    private struct JSON: Decodable {
        struct Response: Decodable {
            let clientDataJSON: String
            let authenticatorData: String
            let signature: String
            let userHandle: String?
        }
        let id: String
        let rawId: String
        let type: String
        let response: Response
        let authenticatorAttachment: String?
    }

    /// Parses the JSON (at most 128 KiB).
    ///
    /// - Throws: `WebAuthnError` `.tooLarge`, `.malformed`, `.wrongType`, `.credentialMismatch`, as for
    ///   `RegistrationResponse`.
    public init(json: [UInt8]) throws(WebAuthnError) {
        let fields = try ResponseJSON.decode(JSON.self, from: json)
        credentialID = try ResponseJSON.credentialID(id: fields.id, rawId: fields.rawId, type: fields.type)
        clientDataJSON = try ResponseJSON.bytes(fields.response.clientDataJSON, limit: ClientData.maxLength)
        authenticatorData = try ResponseJSON.bytes(fields.response.authenticatorData, limit: 65_536)
        signature = try ResponseJSON.bytes(fields.response.signature, limit: 1_024)
        if let text = fields.response.userHandle, !text.isEmpty {
            userHandle = try ResponseJSON.bytes(text, limit: 64)
        } else {
            userHandle = nil
        }
        authenticatorAttachment = try ResponseJSON.attachment(fields.authenticatorAttachment)
    }
}

/// The parts both response readers share.
enum ResponseJSON {
    /// Largest response JSON accepted.
    static let maxLength = 131_072

    static func decode<T: Decodable>(_ type: T.Type, from json: [UInt8]) throws(WebAuthnError) -> T {
        guard json.count <= maxLength else { throw .tooLarge("the credential JSON is too large") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(json))
        } catch {
            throw .malformed("the credential JSON does not have the expected members")
        }
    }

    /// Base64url (padding optional) decoded, at most `limit` bytes.
    static func bytes(_ text: String, limit: Int) throws(WebAuthnError) -> [UInt8] {
        // 4 characters carry 3 bytes; checking the text first keeps huge inputs from being decoded.
        guard text.utf8.count <= (limit + 2) / 3 * 4 else { throw .tooLarge("a credential field is too large") }
        guard let bytes = Base64.decode(text, alphabet: .url, padding: .optional) else {
            throw .malformed("a credential field is not base64url")
        }
        guard bytes.count <= limit else { throw .tooLarge("a credential field is too large") }
        return bytes
    }

    /// `rawId` decoded, after checking `type` and that `id` names the same bytes.
    static func credentialID(id: String, rawId: String, type: String) throws(WebAuthnError) -> [UInt8] {
        guard type == "public-key" else { throw WebAuthnError(.wrongType, "the credential type is not public-key") }
        let raw = try bytes(rawId, limit: AuthenticatorData.maxCredentialIDLength)
        guard !raw.isEmpty else { throw .malformed("the credential id is empty") }
        guard try bytes(id, limit: AuthenticatorData.maxCredentialIDLength) == raw else {
            throw WebAuthnError(.credentialMismatch, "id and rawId differ")
        }
        return raw
    }

    static func attachment(_ value: String?) throws(WebAuthnError) -> String? {
        guard let value else { return nil }
        guard value.utf8.count <= 32 else { throw .tooLarge("authenticatorAttachment is too long") }
        return value
    }
}
