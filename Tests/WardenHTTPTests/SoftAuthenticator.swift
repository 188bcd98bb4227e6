import Crypto
import Foundation
import Synchronization
import Testing
import WardenCore

/// A software passkey and the browser around it (P-256, attestation `none`), built by hand so a test can
/// change one part of what a real one sends: the origin, the relying party's id, the challenge, the flags,
/// the counter, the user handle. The minimum of `Tests/WardenWebAuthnTests/Support/TestAuthenticator.swift`
/// for the JSON routes, which take `PublicKeyCredential.toJSON()` objects.
final class SoftAuthenticator: Sendable {
    static let origin = "http://localhost"
    static let rpID = "localhost"
    /// User present.
    static let up: UInt8 = 0x01
    /// User verified.
    static let uv: UInt8 = 0x04
    /// Attested credential data follows.
    static let at: UInt8 = 0x40

    let key = P256.Signing.PrivateKey()
    let credentialID: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
    /// The user handle the authenticator stores at registration and returns with each assertion.
    let userHandle: Mutex<[UInt8]> = Mutex([])
    /// The signature counter the next assertion carries.
    let counter = Mutex<UInt32>(0)

    var credentialIDText: String { Self.b64(credentialID) }

    /// The credential key as COSE: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
    var coseKey: [UInt8] {
        let raw = Array(key.publicKey.rawRepresentation)
        return [0xA5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20] + raw[0..<32] + [0x22, 0x58, 0x20] + raw[32..<64]
    }

    func authData(rpID: String = rpID, flags: UInt8, signCount: UInt32, attested: Bool) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array(rpID.utf8)))
        bytes.append(flags | (attested ? Self.at : 0))
        bytes += Self.bigEndian(UInt64(signCount), count: 4)
        if attested {
            bytes += [UInt8](repeating: 0, count: 16) + Self.bigEndian(UInt64(credentialID.count), count: 2) + credentialID + coseKey
        }
        return bytes
    }

    static func clientData(type: String, challenge: [UInt8], origin: String) -> [UInt8] {
        json(["type": type, "challenge": b64(challenge), "origin": origin, "crossOrigin": false])
    }

    /// `navigator.credentials.create` answered: the `credential` object of `/auth/passkeys/register`.
    /// - Parameter options: the `publicKey` object of the registration options.
    func register(_ options: [String: Any], origin: String = origin, rpID: String = rpID, flags: UInt8 = up | uv) throws -> [String: Any] {
        let challenge = try Self.challenge(options)
        let user = try #require(options["user"] as? [String: Any])
        userHandle.withLock { $0 = Base64.decode(user["id"] as? String ?? "", alphabet: .url, padding: .forbidden) ?? [] }
        let client = Self.clientData(type: "webauthn.create", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: flags, signCount: 0, attested: true)
        // {"fmt": "none", "attStmt": {}, "authData": bytes}
        let attestation =
            [0xA3, 0x63] + Array("fmt".utf8) + [0x64] + Array("none".utf8) + [0x67] + Array("attStmt".utf8) + [0xA0]
            + [0x68] + Array("authData".utf8) + Self.byteStringHead(data.count) + data
        return [
            "id": credentialIDText, "rawId": credentialIDText, "type": "public-key",
            "response": ["clientDataJSON": Self.b64(client), "attestationObject": Self.b64(attestation), "transports": ["internal"]],
            "authenticatorAttachment": "platform", "clientExtensionResults": [String: Any](),
        ]
    }

    /// `navigator.credentials.get` answered: a signed assertion over `options`' challenge. The counter
    /// advances by one unless `signCount` is given.
    func assert(
        _ options: [String: Any], origin: String = origin, rpID: String = rpID, flags: UInt8 = up | uv, signCount: UInt32? = nil,
        challenge override: [UInt8]? = nil, userHandle handle: [UInt8]? = nil
    ) throws -> [String: Any] {
        let challenge = try override ?? Self.challenge(options)
        let count =
            signCount
            ?? counter.withLock {
                $0 += 1
                return $0
            }
        let client = Self.clientData(type: "webauthn.get", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: flags, signCount: count, attested: false)
        let signature = Array(try key.signature(for: data + Array(SHA256.hash(data: client))).derRepresentation)
        return [
            "id": credentialIDText, "rawId": credentialIDText, "type": "public-key",
            "response": [
                "clientDataJSON": Self.b64(client), "authenticatorData": Self.b64(data), "signature": Self.b64(signature),
                "userHandle": Self.b64(handle ?? userHandle.withLock { $0 }),
            ],
            "clientExtensionResults": [String: Any](),
        ]
    }

    static func challenge(_ options: [String: Any]) throws -> [UInt8] {
        try #require(Base64.decode(options["challenge"] as? String ?? "", alphabet: .url, padding: .forbidden))
    }

    static func byteStringHead(_ count: Int) -> [UInt8] {
        switch count {
        case 0..<24: [0x40 | UInt8(count)]
        case 24...0xFF: [0x58, UInt8(count)]
        default: [0x59] + bigEndian(UInt64(count), count: 2)
        }
    }

    static func bigEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func b64(_ bytes: [UInt8]) -> String { Base64.encode(bytes, alphabet: .url, padded: false) }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
