import Crypto
import Foundation
import Testing
import WardenWebAuthn

/// The ceremonies against an authenticator built by hand: the happy path, then each check of §7.1 and
/// §7.2 failing on its own.
struct CeremonyTests {
    let rp = TestAuthenticator.rp
    let device = TestAuthenticator()
    let challenge: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }

    func register(_ response: RegistrationResponse, requireUserVerification: Bool = false) throws(WebAuthnError) -> NewCredential {
        try rp.verifyRegistration(response, challenge: challenge, requireUserVerification: requireUserVerification)
    }

    func authenticate(_ response: AssertionResponse, stored: StoredCredential? = nil, requireUserVerification: Bool = false) throws(WebAuthnError) -> AssertionOutcome {
        try rp.verifyAssertion(response, challenge: challenge, credential: stored ?? device.stored(), requireUserVerification: requireUserVerification)
    }

    /// The code of the error `body` throws.
    func code<T>(_ body: () throws(WebAuthnError) -> T) -> WebAuthnError.Code? {
        (#expect(throws: WebAuthnError.self) { _ = try body() })?.code
    }

    // MARK: The happy path

    @Test func registersAndAuthenticates() throws {
        let credential = try register(device.registration(challenge: challenge), requireUserVerification: true)
        #expect(credential.credentialID == device.credentialID)
        #expect(credential.publicKey.algorithm == .es256)
        #expect(credential.attestationFormat == "none")
        #expect(credential.transports == ["internal"])
        #expect(credential.userVerified && !credential.backupEligible && !credential.backedUp)
        let stored = StoredCredential(credentialID: credential.credentialID, publicKey: credential.publicKey.bytes, signCount: credential.signCount)
        let outcome = try authenticate(device.assertion(challenge: challenge, signCount: 1), stored: stored, requireUserVerification: true)
        #expect(outcome.signCount == 1 && !outcome.counterRegressed && outcome.userVerified)
    }

    @Test func authenticatesWithEd25519() throws {
        let key = Curve25519.Signing.PrivateKey()
        let cose = CBOREncoder.encode(
            CBOREncoder.map([
                (.unsigned(1), .unsigned(1)), (.unsigned(3), CBORValue(-8)), (CBORValue(-1), .unsigned(6)),
                (CBORValue(-2), .bytes(Array(key.publicKey.rawRepresentation))),
            ]))
        let authData = device.authData(flags: 0x01)
        let client = TestAuthenticator.clientData(type: "webauthn.get", challenge: challenge)
        let signature = Array(try key.signature(for: authData + Array(SHA256.hash(data: client))))
        let response = try AssertionResponse(
            json: TestAuthenticator.assertionJSON(
                id: device.credentialID, clientDataJSON: client, authenticatorData: authData, signature: signature))
        let stored = StoredCredential(credentialID: device.credentialID, publicKey: cose, signCount: 0)
        #expect(try authenticate(response, stored: stored).signCount == 0)
        var bad = signature
        bad[0] ^= 1
        let forged = try AssertionResponse(
            json: TestAuthenticator.assertionJSON(
                id: device.credentialID, clientDataJSON: client, authenticatorData: authData, signature: bad))
        #expect(code { () throws(WebAuthnError) in try authenticate(forged, stored: stored) } == .badSignature)
    }

    @Test func selfAttestationVerifies() throws {
        let authData = device.authData(flags: 0x01, attested: true)
        let client = TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge)
        let signature = Array(try device.key.signature(for: authData + Array(SHA256.hash(data: client))).derRepresentation)
        func response(alg: Int64) throws -> RegistrationResponse {
            let statement = CBOREncoder.map([(.text("alg"), CBORValue(alg)), (.text("sig"), .bytes(signature))])
            return try RegistrationResponse(
                json: TestAuthenticator.registrationJSON(
                    id: device.credentialID, clientDataJSON: client,
                    attestationObject: TestAuthenticator.attestationObject(format: "packed", statement: statement, authData: authData)))
        }
        #expect(try register(response(alg: -7)).attestationFormat == "packed")
        // alg must be the credential key's.
        #expect(code { () throws(WebAuthnError) in try register(try! response(alg: -8)) } == .malformed)
    }

    // MARK: Client data

    @Test func tamperedClientDataFailsTheSignature() throws {
        // Still valid JSON with the right type, challenge and origin: only the signature can tell.
        let response = try device.assertion(challenge: challenge, tamper: { $0 + Array(" ".utf8) })
        #expect(code { () throws(WebAuthnError) in try authenticate(response) } == .badSignature)
    }

    @Test func wrongOriginIsRefused() throws {
        for origin in ["https://evil.example", "http://example.org", "https://example.org:8443", "https://sub.example.org", "https://example.org/"] {
            #expect(code { () throws(WebAuthnError) in try register(try! device.registration(challenge: challenge, origin: origin)) } == .originMismatch)
            #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, origin: origin)) } == .originMismatch)
        }
    }

    @Test func crossOriginIsRefused() throws {
        let response = try device.assertion(challenge: challenge, crossOrigin: true)
        #expect(code { () throws(WebAuthnError) in try authenticate(response) } == .originMismatch)
        // Absent means false.
        #expect(try authenticate(device.assertion(challenge: challenge, crossOrigin: nil)).signCount == 0)
    }

    @Test func replayedOrDifferentChallengeIsRefused() throws {
        let other: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }
        #expect(code { () throws(WebAuthnError) in try register(try! device.registration(challenge: other)) } == .challengeMismatch)
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: other)) } == .challengeMismatch)
        // A prefix of the challenge is not the challenge.
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: Array(challenge.prefix(31)))) } == .challengeMismatch)
    }

    @Test func wrongCeremonyTypeIsRefused() throws {
        #expect(code { () throws(WebAuthnError) in try register(try! device.registration(challenge: challenge, type: "webauthn.get")) } == .wrongType)
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, type: "webauthn.create")) } == .wrongType)
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, type: "payment.get")) } == .wrongType)
    }

    @Test(arguments: [
        ("not JSON", "not json"),
        ("an array", "[]"),
        ("a string", "\"webauthn.get\""),
        ("no challenge", #"{"type":"webauthn.get","origin":"https://example.org"}"#),
        ("a numeric origin", #"{"type":"webauthn.get","challenge":"AAAA","origin":1}"#),
        ("a string crossOrigin", #"{"type":"webauthn.get","challenge":"AAAA","origin":"https://example.org","crossOrigin":"false"}"#),
        ("a padded challenge", #"{"type":"webauthn.get","challenge":"AA==","origin":"https://example.org"}"#),
        ("a standard-alphabet challenge", #"{"type":"webauthn.get","challenge":"+/+/","origin":"https://example.org"}"#),
    ])
    func malformedClientDataIsRefused(_ name: String, _ json: String) {
        #expect((#expect(throws: WebAuthnError.self, "\(name)") { try ClientData(json: Array(json.utf8)) })?.code == .malformed)
    }

    @Test func oversizedClientDataIsRefused() {
        let big =
            Array(#"{"type":"webauthn.get","challenge":"AAAA","origin":"https://example.org","x":""#.utf8)
            + [UInt8](repeating: 0x61, count: 20_000) + Array(#""}"#.utf8)
        #expect((#expect(throws: WebAuthnError.self) { try ClientData(json: big) })?.code == .tooLarge)
    }

    // MARK: Authenticator data

    @Test func wrongRPIDHashIsRefused() throws {
        #expect(code { () throws(WebAuthnError) in try register(try! device.registration(challenge: challenge, rpID: "evil.example")) } == .rpIDMismatch)
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, rpID: "example.org.evil")) } == .rpIDMismatch)
    }

    @Test func userPresenceIsAlwaysRequired() throws {
        #expect(code { () throws(WebAuthnError) in try register(try! device.registration(challenge: challenge, flags: 0x04)) } == .userPresenceRequired)
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, flags: 0x04)) } == .userPresenceRequired)
    }

    @Test func userVerificationRequiredButAbsentIsRefused() throws {
        let registration = try device.registration(challenge: challenge, flags: 0x01)
        #expect(code { () throws(WebAuthnError) in try register(registration, requireUserVerification: true) } == .userVerificationRequired)
        #expect(try register(registration, requireUserVerification: false).userVerified == false)
        let assertion = try device.assertion(challenge: challenge, flags: 0x01)
        #expect(code { () throws(WebAuthnError) in try authenticate(assertion, requireUserVerification: true) } == .userVerificationRequired)
        #expect(try authenticate(assertion).userVerified == false)
    }

    @Test(
        arguments: [
            (stored: 0, new: 0, regressed: false),
            (stored: 0, new: 1, regressed: false),
            (stored: 5, new: 6, regressed: false),
            (stored: 5, new: 5, regressed: true),
            (stored: 5, new: 3, regressed: true),
            (stored: 5, new: 0, regressed: true),
            (stored: UInt32.max - 1, new: UInt32.max, regressed: false),
        ] as [(stored: UInt32, new: UInt32, regressed: Bool)])
    func counterRegressionIsReportedNotThrown(_ counters: (stored: UInt32, new: UInt32, regressed: Bool)) throws {
        let outcome = try authenticate(device.assertion(challenge: challenge, signCount: counters.new), stored: device.stored(signCount: counters.stored))
        #expect(outcome.counterRegressed == counters.regressed)
        #expect(outcome.signCount == counters.new)
    }

    @Test func backedUpWithoutBackupEligibleIsRefused() throws {
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, flags: 0x11)) } == .malformed)
        #expect(try authenticate(device.assertion(challenge: challenge, flags: 0x19)).backedUp)
    }

    @Test func truncatedAuthenticatorDataIsRefused() throws {
        let full = device.authData(flags: 0x01, attested: true)
        for length in [0, 1, 32, 36, 37 + 10, 37 + 18 + 5, full.count - 1] {
            let prefix = Array(full.prefix(length))
            #expect((#expect(throws: WebAuthnError.self, "\(length) bytes") { try AuthenticatorData(prefix) })?.code == .malformed)
        }
        #expect(try AuthenticatorData(full).attestedCredential?.credentialID == device.credentialID)
    }

    @Test func trailingBytesInAuthenticatorDataAreRefused() throws {
        // Signed correctly, but with a byte no flag announces.
        let data = device.authData(flags: 0x01, trailing: [0x00])
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, authData: data)) } == .malformed)
        let attested = device.authData(flags: 0x01, attested: true, trailing: [0xA0])
        #expect((#expect(throws: WebAuthnError.self) { try AuthenticatorData(attested) })?.code == .malformed)
    }

    @Test func flagsMustMatchTheDataThatFollows() throws {
        // AT set, nothing follows.
        #expect(throws: WebAuthnError.self) { try AuthenticatorData(device.authData(flags: 0x41)) }
        // ED set, nothing follows; ED set and an extension map follows; ED set and a non-map follows.
        #expect(throws: WebAuthnError.self) { try AuthenticatorData(device.authData(flags: 0x81)) }
        let withExtensions = device.authData(flags: 0x81, trailing: CBOREncoder.encode(CBOREncoder.map([(.text("credProps"), .bool(true))])))
        #expect(try AuthenticatorData(withExtensions).extensions?[text: "credProps"] == .bool(true))
        #expect(throws: WebAuthnError.self) { try AuthenticatorData(device.authData(flags: 0x81, trailing: [0x01])) }
        // Credential and extensions together.
        let both = device.authData(flags: 0x81, attested: true, trailing: [0xA0])
        #expect(try AuthenticatorData(both).extensions == .map([]))
    }

    @Test func credentialIDLengthIsBounded() throws {
        var data = device.authData(flags: 0x41)
        data += [UInt8](repeating: 0, count: 16) + [0x04, 0x00] + [UInt8](repeating: 7, count: 1024) + device.coseKey
        #expect((#expect(throws: WebAuthnError.self) { try AuthenticatorData(data) })?.code == .tooLarge)
    }

    // MARK: Credential ids

    @Test func mismatchedCredentialIDsAreRefused() throws {
        // The assertion names another credential than the stored one.
        let other: [UInt8] = Array(device.credentialID.reversed())
        #expect(code { () throws(WebAuthnError) in try authenticate(try! device.assertion(challenge: challenge, id: other)) } == .credentialMismatch)
        // The registration's rawId is not the credential id in the authenticator data.
        let client = TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge)
        let attestation = TestAuthenticator.attestationObject(authData: device.authData(flags: 0x01, attested: true))
        let response = try RegistrationResponse(json: TestAuthenticator.registrationJSON(id: other, clientDataJSON: client, attestationObject: attestation))
        #expect(code { () throws(WebAuthnError) in try register(response) } == .credentialMismatch)
        // id and rawId differ.
        let json = TestAuthenticator.registrationJSON(id: device.credentialID, rawId: other, clientDataJSON: client, attestationObject: attestation)
        #expect((#expect(throws: WebAuthnError.self) { try RegistrationResponse(json: json) })?.code == .credentialMismatch)
    }

    @Test func userHandleMustBeTheCredentials() throws {
        let client = TestAuthenticator.clientData(type: "webauthn.get", challenge: challenge)
        let data = device.authData(flags: 0x05)
        let signature = Array(try device.key.signature(for: data + Array(SHA256.hash(data: client))).derRepresentation)
        let response = try AssertionResponse(
            json: TestAuthenticator.assertionJSON(
                id: device.credentialID, clientDataJSON: client, authenticatorData: data, signature: signature, userHandle: [1, 2, 3]))
        #expect(response.userHandle == [1, 2, 3])
        let mine = StoredCredential(credentialID: device.credentialID, publicKey: device.coseKey, signCount: 0, userHandle: [1, 2, 3])
        #expect(try authenticate(response, stored: mine).signCount == 0)
        let theirs = StoredCredential(credentialID: device.credentialID, publicKey: device.coseKey, signCount: 0, userHandle: [9])
        #expect(code { () throws(WebAuthnError) in try authenticate(response, stored: theirs) } == .credentialMismatch)
    }

    // MARK: Attestation objects

    @Test func unsupportedAttestationFormatsAreRefused() throws {
        let client = TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge)
        let authData = device.authData(flags: 0x01, attested: true)
        func register(format: String, statement: CBORValue) throws -> WebAuthnError.Code? {
            let response = try RegistrationResponse(
                json: TestAuthenticator.registrationJSON(
                    id: device.credentialID, clientDataJSON: client,
                    attestationObject: TestAuthenticator.attestationObject(format: format, statement: statement, authData: authData)))
            return code { () throws(WebAuthnError) in try self.register(response) }
        }
        for format in ["fido-u2f", "tpm", "android-key", "android-safetynet", "apple", "unknown"] {
            #expect(try register(format: format, statement: .map([])) == .unsupportedAttestation)
        }
        let chain = CBOREncoder.map([(.text("alg"), CBORValue(-7)), (.text("sig"), .bytes([0x30])), (.text("x5c"), .array([.bytes([0x30])]))])
        #expect(try register(format: "packed", statement: chain) == .unsupportedAttestation)
        // A none statement must be empty.
        #expect(try register(format: "none", statement: CBOREncoder.map([(.text("sig"), .bytes([1]))])) == .malformed)
    }

    @Test(arguments: [
        ("not a map", CBOREncoder.encode(.array([]))),
        ("no fmt", CBOREncoder.encode(CBOREncoder.map([(.text("attStmt"), .map([])), (.text("authData"), .bytes([]))]))),
        ("fmt is bytes", CBOREncoder.encode(CBOREncoder.map([(.text("fmt"), .bytes([])), (.text("attStmt"), .map([])), (.text("authData"), .bytes([]))]))),
        ("attStmt is an array", CBOREncoder.encode(CBOREncoder.map([(.text("fmt"), .text("none")), (.text("attStmt"), .array([])), (.text("authData"), .bytes([]))]))),
        ("truncated", Array(CBOREncoder.encode(CBOREncoder.map([(.text("fmt"), .text("none"))])).dropLast())),
        ("trailing bytes", CBOREncoder.encode(.map([])) + [0]),
    ])
    func malformedAttestationObjectsAreRefused(_ name: String, _ bytes: [UInt8]) {
        #expect((#expect(throws: WebAuthnError.self, "\(name)") { try AttestationObject(bytes) })?.code == .malformed)
    }

    @Test func hugeCBORLengthsAreRefused() {
        // {"fmt": "none", "attStmt": {}, "authData": bytes of length 2^63}
        let prefix = CBOREncoder.encode(CBOREncoder.map([(.text("fmt"), .text("none")), (.text("attStmt"), .map([]))]))
        var object = prefix
        object[0] = 0xA3
        object += CBOREncoder.encode(.text("authData")) + [0x5B, 0x80, 0, 0, 0, 0, 0, 0, 0]
        #expect((#expect(throws: WebAuthnError.self) { try AttestationObject(object) })?.code == .tooLarge)
        // A map claiming 2^32 entries.
        #expect((#expect(throws: WebAuthnError.self) { try AttestationObject([0xBB, 0, 0, 0, 1, 0, 0, 0, 0]) })?.code == .tooLarge)
    }

    @Test func deepNestingIsRefused() {
        var statement = CBORValue.array([])
        for _ in 0..<20 { statement = .array([statement]) }
        let object = TestAuthenticator.attestationObject(statement: statement, authData: device.authData(flags: 0x01, attested: true))
        #expect((#expect(throws: WebAuthnError.self) { try AttestationObject(object) })?.code == .tooLarge)
    }

    // MARK: COSE keys

    @Test func coseKeysAreChecked() throws {
        #expect(try COSEKey(cose: device.coseKey).algorithm == .es256)
        let raw = Array(device.key.publicKey.rawRepresentation)
        func es256(kty: Int64 = 2, alg: Int64 = -7, crv: Int64 = 1, x: [UInt8]? = nil, y: [UInt8]? = nil) -> [UInt8] {
            CBOREncoder.encode(
                CBOREncoder.map([
                    (.unsigned(1), CBORValue(kty)), (.unsigned(3), CBORValue(alg)), (CBORValue(-1), CBORValue(crv)),
                    (CBORValue(-2), .bytes(x ?? Array(raw[0..<32]))), (CBORValue(-3), .bytes(y ?? Array(raw[32..<64]))),
                ]))
        }
        func refusal(_ bytes: [UInt8]) -> WebAuthnError.Code? {
            (#expect(throws: WebAuthnError.self) { try COSEKey(cose: bytes) })?.code
        }
        var offCurve = Array(raw[32..<64])
        offCurve[31] ^= 1
        #expect(refusal(es256(y: offCurve)) == .malformed)
        #expect(refusal(es256(x: Array(raw[0..<31]))) == .malformed)
        #expect(refusal(es256(alg: -35)) == .unsupportedAlgorithm)  // ES384
        #expect(refusal(es256(alg: -36)) == .unsupportedAlgorithm)  // ES512
        #expect(refusal(es256(kty: 3)) == .unsupportedAlgorithm)
        #expect(refusal(es256(crv: 2)) == .unsupportedAlgorithm)
        #expect(refusal(CBOREncoder.encode(CBOREncoder.map([(.unsigned(1), .unsigned(2))]))) == .malformed)  // no alg
        #expect(refusal(device.coseKey + [0]) == .malformed)  // trailing byte
        // An RSA key of 1024 bits.
        let small = CBOREncoder.encode(
            CBOREncoder.map([
                (.unsigned(1), .unsigned(3)), (.unsigned(3), CBORValue(-257)),
                (CBORValue(-1), .bytes([0xC0] + [UInt8](repeating: 0x11, count: 127))), (CBORValue(-2), .bytes([1, 0, 1])),
            ]))
        #expect(refusal(small) == .unsupportedAlgorithm)
        // A signature that is not DER never verifies, and never crashes.
        let key = try COSEKey(cose: device.coseKey)
        #expect(!key.isValidSignature([], for: [1]))
        #expect(!key.isValidSignature([0x30, 0xFF], for: [1]))
    }

    // MARK: Response JSON

    @Test func responseJSONIsChecked() throws {
        let client = TestAuthenticator.clientData(type: "webauthn.create", challenge: challenge)
        let attestation = TestAuthenticator.attestationObject(authData: device.authData(flags: 0x01, attested: true))
        let good = TestAuthenticator.registrationJSON(id: device.credentialID, clientDataJSON: client, attestationObject: attestation)
        #expect(try RegistrationResponse(json: good).credentialID == device.credentialID)
        func refusal(_ json: [UInt8]) -> WebAuthnError.Code? {
            (#expect(throws: WebAuthnError.self) { try RegistrationResponse(json: json) })?.code
        }
        #expect(refusal(TestAuthenticator.registrationJSON(id: device.credentialID, clientDataJSON: client, attestationObject: attestation, type: "password")) == .wrongType)
        #expect(refusal(Array("[]".utf8)) == .malformed)
        #expect(refusal(Array(#"{"id":"AA","rawId":"AA","type":"public-key"}"#.utf8)) == .malformed)
        // Bad base64url: the standard alphabet, stray characters, an impossible length.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(good)) as? [String: Any])
        for bad in ["ab+/", "ab!c", "a", "abc=d"] {
            var response = try #require(object["response"] as? [String: Any])
            response["clientDataJSON"] = bad
            object["response"] = response
            #expect(refusal(TestAuthenticator.json(object)) == .malformed, "\(bad)")
        }
        // Oversized JSON, and an oversized field within the limit.
        let padding = String(repeating: " ", count: 140_000)
        #expect(refusal(Array(good.dropLast()) + Array(padding.utf8) + [UInt8(ascii: "}")]) == .tooLarge)
        var response = try #require(object["response"] as? [String: Any])
        response["clientDataJSON"] = String(repeating: "A", count: 30_000)
        object["response"] = response
        #expect(refusal(TestAuthenticator.json(object)) == .tooLarge)
    }

    @Test func assertionJSONReadsAnEmptyUserHandleAsNone() throws {
        let json = Array(#"{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":""}}"#.utf8)
        #expect(try AssertionResponse(json: json).userHandle == nil)
        let null = Array(#"{"id":"AQ","rawId":"AQ","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":"","userHandle":null}}"#.utf8)
        #expect(try AssertionResponse(json: null).userHandle == nil)
    }

    // MARK: Options

    @Test func creationOptionsHaveTheJSONShape() throws {
        let options = rp.creationOptions(
            challenge: challenge, userID: [1, 2, 3], userName: "ada@example.org", displayName: "Ada", exclude: [[0xFF, 0xFE]])
        let json = try JSONSerialization.data(withJSONObject: options)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect((object["rp"] as? [String: String]) == ["id": "example.org", "name": "Example"])
        #expect((object["user"] as? [String: String])?["id"] == "AQID")
        #expect(object["challenge"] as? String == TestAuthenticator.b64(challenge))
        #expect((object["pubKeyCredParams"] as? [[String: Any]])?.compactMap { $0["alg"] as? Int } == [-7, -8, -257])
        #expect(object["attestation"] as? String == "none")
        #expect((object["excludeCredentials"] as? [[String: String]]) == [["type": "public-key", "id": "__4"]])
        let selection = try #require(object["authenticatorSelection"] as? [String: Any])
        #expect(selection["residentKey"] as? String == "required" && selection["userVerification"] as? String == "preferred")
        #expect(object["timeout"] as? Int == 300_000)

        let request = rp.requestOptions(challenge: challenge, allow: [], userVerification: "required")
        let requestObject = try #require(try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: request)) as? [String: Any])
        #expect(requestObject["rpId"] as? String == "example.org")
        #expect((requestObject["allowCredentials"] as? [Any])?.isEmpty == true)
        #expect(requestObject["userVerification"] as? String == "required")
    }

    @Test func errorsNeverEchoTheInput() throws {
        let origin = "https://attacker-controlled-text.example"
        let error = #expect(throws: WebAuthnError.self) { () throws(WebAuthnError) in
            try self.authenticate(try! self.device.assertion(challenge: self.challenge, origin: origin))
        }
        #expect(error.map { !$0.description.contains("attacker") && !$0.message.contains("attacker") } == true)
    }
}
