import Foundation
import Testing
import WardenCore
import WardenTestSupport
import WardenWebAuthn

/// Real authenticator output: soft-webauthn's software authenticator answers Warden's own options, Warden
/// verifies its responses, and python-fido2's `Fido2Server` verifies the very same bytes.
struct SoftAuthenticatorTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python/soft_authenticator.py").path
    let rp = TestAuthenticator.rp
    let origin = TestAuthenticator.origin
    let registrationChallenge: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }
    let assertionChallenge: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }
    let userID: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }

    func python(_ arguments: [String]) async throws -> (status: Int32, output: [UInt8], error: String) {
        let result = try await runProcess("/usr/bin/env", ["python3", Self.script] + arguments)
        let error = String(decoding: result.stderr, as: UTF8.self)
        if error.contains("ModuleNotFoundError") {
            Issue.record("fido2 or soft-webauthn is missing: run scripts/test.sh, which installs them (\(error))")
        }
        return (result.status, Array(result.stdout), error)
    }

    /// The soft authenticator's registration and assertion, as `toJSON()` objects.
    func responses() async throws -> (registration: [String: Any], assertion: [String: Any]) {
        let creation = rp.creationOptions(challenge: registrationChallenge, userID: userID, userName: "ada@example.org", displayName: "Ada", exclude: [])
        let request = rp.requestOptions(challenge: assertionChallenge, allow: [], userVerification: "preferred")
        let made = try await python([
            "make", origin,
            String(decoding: try JSONSerialization.data(withJSONObject: creation), as: UTF8.self),
            String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self),
        ])
        try #require(made.status == 0, "\(made.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(made.output)) as? [String: Any])
        return (try #require(object["registration"] as? [String: Any]), try #require(object["assertion"] as? [String: Any]))
    }

    /// Whether python-fido2 accepts both responses for this test's challenges.
    func fido2Accepts(_ registration: [String: Any], _ assertion: [String: Any]) async throws -> Bool {
        let result = try await python([
            "verify", rp.id, origin, TestAuthenticator.b64(registrationChallenge), TestAuthenticator.b64(assertionChallenge),
            String(decoding: TestAuthenticator.json(registration), as: UTF8.self),
            String(decoding: TestAuthenticator.json(assertion), as: UTF8.self),
        ])
        return result.status == 0
    }

    @Test func wardenAndFido2AcceptTheSameSoftAuthenticatorResponses() async throws {
        let (registration, assertion) = try await responses()
        let credential = try rp.verifyRegistration(
            RegistrationResponse(json: TestAuthenticator.json(registration)), challenge: registrationChallenge, requireUserVerification: false)
        // soft-webauthn makes ES256 keys, attestation none, UP without UV, counter 0 then 1.
        #expect(credential.publicKey.algorithm == .es256)
        #expect(credential.attestationFormat == "none")
        #expect(credential.signCount == 0 && !credential.userVerified)
        #expect(credential.aaguid == [UInt8](repeating: 0, count: 16))
        #expect(credential.transports == ["usb"])

        let response = try AssertionResponse(json: TestAuthenticator.json(assertion))
        #expect(response.userHandle == userID)
        let stored = StoredCredential(credentialID: credential.credentialID, publicKey: credential.publicKey.bytes, signCount: credential.signCount, userHandle: userID)
        let outcome = try rp.verifyAssertion(response, challenge: assertionChallenge, credential: stored, requireUserVerification: false)
        #expect(outcome.signCount == 1 && !outcome.counterRegressed)

        #expect(try await fido2Accepts(registration, assertion))

        // Required user verification: the soft authenticator never verifies the user.
        #expect(throws: WebAuthnError(.userVerificationRequired, "the authenticator did not verify the user")) {
            try rp.verifyAssertion(response, challenge: assertionChallenge, credential: stored, requireUserVerification: true)
        }
    }

    @Test func wardenAndFido2RefuseTheSameTamperedAssertion() async throws {
        let (registration, assertion) = try await responses()
        let credential = try rp.verifyRegistration(
            RegistrationResponse(json: TestAuthenticator.json(registration)), challenge: registrationChallenge, requireUserVerification: false)
        // One more space in clientDataJSON: still valid, no longer what was signed.
        var tampered = assertion
        var inner = try #require(assertion["response"] as? [String: Any])
        let encoded = try #require(inner["clientDataJSON"] as? String)
        let client = try #require(Base64.decode(encoded, alphabet: .url, padding: .forbidden))
        inner["clientDataJSON"] = TestAuthenticator.b64(client + Array(" ".utf8))
        tampered["response"] = inner
        let stored = StoredCredential(credentialID: credential.credentialID, publicKey: credential.publicKey.bytes, signCount: 0)
        let error = #expect(throws: WebAuthnError.self) {
            try rp.verifyAssertion(AssertionResponse(json: TestAuthenticator.json(tampered)), challenge: assertionChallenge, credential: stored, requireUserVerification: false)
        }
        #expect(error?.code == .badSignature)
        #expect(try await !fido2Accepts(registration, tampered))
    }
}
