import Crypto
import Foundation
import WardenCore
import WardenWebAuthn

/// An ES256 authenticator and browser built by hand, so each test can change one byte of what a real
/// one would send.
struct TestAuthenticator {
    static let rp = RelyingParty(id: "example.org", name: "Example", origins: ["https://example.org"])
    static let origin = "https://example.org"

    let key = P256.Signing.PrivateKey()
    let credentialID: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
    let aaguid = [UInt8](repeating: 0, count: 16)

    /// UP | UV.
    static let presentAndVerified: UInt8 = 0x05

    /// The credential key as COSE: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
    var coseKey: [UInt8] {
        let raw = Array(key.publicKey.rawRepresentation)
        return CBOREncoder.encode(
            CBOREncoder.map([
                (.unsigned(1), .unsigned(2)), (.unsigned(3), CBORValue(-7)), (CBORValue(-1), .unsigned(1)),
                (CBORValue(-2), .bytes(Array(raw[0..<32]))), (CBORValue(-3), .bytes(Array(raw[32..<64]))),
            ]))
    }

    func stored(signCount: UInt32 = 0) -> StoredCredential {
        StoredCredential(credentialID: credentialID, publicKey: coseKey, signCount: signCount)
    }

    /// Authenticator data; with `attested`, the credential (id and key) follows.
    func authData(rpID: String = "example.org", flags: UInt8, signCount: UInt32 = 0, attested: Bool = false, trailing: [UInt8] = []) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array(rpID.utf8)))
        bytes.append(flags | (attested ? 0x40 : 0))
        bytes += CBOREncoder.bigEndian(UInt64(signCount), count: 4)
        if attested {
            bytes += aaguid + CBOREncoder.bigEndian(UInt64(credentialID.count), count: 2) + credentialID + coseKey
        }
        return bytes + trailing
    }

    static func clientData(type: String, challenge: [UInt8], origin: String = origin, crossOrigin: Bool? = false) -> [UInt8] {
        var object: [String: Any] = ["type": type, "challenge": b64(challenge), "origin": origin]
        if let crossOrigin { object["crossOrigin"] = crossOrigin }
        return Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func attestationObject(format: String = "none", statement: CBORValue = .map([]), authData: [UInt8]) -> [UInt8] {
        CBOREncoder.encode(
            CBOREncoder.map([
                (.text("fmt"), .text(format)), (.text("attStmt"), statement), (.text("authData"), .bytes(authData)),
            ]))
    }

    /// `PublicKeyCredential.toJSON()` of a registration.
    static func registrationJSON(id: [UInt8], rawId: [UInt8]? = nil, clientDataJSON: [UInt8], attestationObject: [UInt8], type: String = "public-key") -> [UInt8] {
        json([
            "id": b64(id), "rawId": b64(rawId ?? id), "type": type,
            "response": ["clientDataJSON": b64(clientDataJSON), "attestationObject": b64(attestationObject), "transports": ["internal"]],
            "authenticatorAttachment": "platform", "clientExtensionResults": [String: Any](),
        ])
    }

    /// `PublicKeyCredential.toJSON()` of an assertion.
    static func assertionJSON(id: [UInt8], clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8], userHandle: [UInt8]? = nil) -> [UInt8] {
        var response: [String: Any] = ["clientDataJSON": b64(clientDataJSON), "authenticatorData": b64(authenticatorData), "signature": b64(signature)]
        if let userHandle { response["userHandle"] = b64(userHandle) }
        return json(["id": b64(id), "rawId": b64(id), "type": "public-key", "response": response, "clientExtensionResults": [String: Any]()])
    }

    /// A complete registration response, with the parts a test may change.
    func registration(
        challenge: [UInt8], type: String = "webauthn.create", origin: String = origin, rpID: String = "example.org",
        flags: UInt8 = presentAndVerified, clientDataJSON: [UInt8]? = nil
    ) throws -> RegistrationResponse {
        let client = clientDataJSON ?? Self.clientData(type: type, challenge: challenge, origin: origin)
        let attestation = Self.attestationObject(authData: authData(rpID: rpID, flags: flags, attested: true))
        return try RegistrationResponse(json: Self.registrationJSON(id: credentialID, clientDataJSON: client, attestationObject: attestation))
    }

    /// A complete, signed assertion response, with the parts a test may change. `tamper` changes the
    /// client data after signing.
    func assertion(
        challenge: [UInt8], type: String = "webauthn.get", origin: String = origin, rpID: String = "example.org",
        flags: UInt8 = presentAndVerified, signCount: UInt32 = 0, id: [UInt8]? = nil, crossOrigin: Bool? = false,
        authData override: [UInt8]? = nil, tamper: (([UInt8]) -> [UInt8])? = nil
    ) throws -> AssertionResponse {
        let client = Self.clientData(type: type, challenge: challenge, origin: origin, crossOrigin: crossOrigin)
        let data = override ?? authData(rpID: rpID, flags: flags, signCount: signCount)
        let signature = Array(try key.signature(for: data + Array(SHA256.hash(data: client))).derRepresentation)
        return try AssertionResponse(
            json: Self.assertionJSON(
                id: id ?? credentialID, clientDataJSON: tamper?(client) ?? client, authenticatorData: data, signature: signature))
    }

    static func b64(_ bytes: [UInt8]) -> String { Base64.encode(bytes, alphabet: .url, padded: false) }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
