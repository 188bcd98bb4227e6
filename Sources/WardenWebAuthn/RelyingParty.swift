import Crypto

/// A WebAuthn Relying Party: the ceremonies that register passkeys and verify assertions (WebAuthn L3
/// §7.1 and §7.2), as pure functions of the browser's response, the challenge Warden issued and, for
/// assertions, the stored credential. No I/O: the caller issues and consumes challenges, stores
/// credentials and audits.
public struct RelyingParty: Sendable {
    /// The RP id, a registrable domain such as `example.org`; credentials are scoped to it.
    public let id: String
    /// The name browsers show.
    public let name: String
    /// The exact origins (`https://example.org`, scheme, host and non-default port) allowed to run the
    /// ceremonies.
    public let origins: Set<String>

    public init(id: String, name: String, origins: Set<String>) {
        self.id = id
        self.name = name
        self.origins = origins
    }

    var idHash: [UInt8] { Array(SHA256.hash(data: Array(id.utf8))) }
}

extension RelyingParty {
    /// Verifies a registration (§7.1) and returns the credential to store.
    ///
    /// Checks, in this order: `clientDataJSON.type` is `webauthn.create`; its challenge is `challenge`
    /// (compared in constant time); its origin is one of `origins`; it is not cross-origin and has no
    /// `topOrigin`; the attestation object parses; `rpIdHash` is SHA-256 of `id`; UP is set; UV is set when
    /// `requireUserVerification`; a credential with an accepted key is present; the attestation statement
    /// verifies (`none` or `packed` self-attestation); the credential id in the authenticator data is
    /// `rawId`.
    ///
    /// - Throws: `WebAuthnError` naming the first check that failed.
    public func verifyRegistration(
        _ response: RegistrationResponse, challenge: [UInt8], requireUserVerification: Bool
    ) throws(WebAuthnError) -> NewCredential {
        let clientData = try checkedClientData(response.clientDataJSON, type: "webauthn.create", challenge: challenge)
        let attestation = try AttestationObject(response.attestationObject)
        let authData = attestation.authenticatorData
        try checkAuthenticatorData(authData, requireUserVerification: requireUserVerification)
        guard let credential = authData.attestedCredential else {
            throw .malformed("the registration carries no credential")
        }
        try attestation.verify(clientDataHash: AttestationObject.sha256(clientData.raw))
        guard constantTimeEquals(credential.credentialID, response.credentialID) else {
            throw WebAuthnError(.credentialMismatch, "the credential id differs from rawId")
        }
        return NewCredential(
            credentialID: credential.credentialID, publicKey: credential.publicKey, signCount: authData.signCount,
            aaguid: credential.aaguid, attestationFormat: attestation.format, userVerified: authData.userVerified,
            backupEligible: authData.backupEligible, backedUp: authData.backedUp, transports: response.transports)
    }

    /// Verifies an assertion (§7.2) made with `credential`.
    ///
    /// Checks, in this order: the response's credential id is the stored one (and so is the user handle
    /// when both are known); `clientDataJSON` as for registration with type `webauthn.get`; the
    /// authenticator data parses; `rpIdHash`, UP and UV as for registration; the signature over
    /// `authenticatorData ‖ SHA-256(clientDataJSON)` verifies with the stored key. Then the counter: when
    /// either counter is non-zero and the new one is not greater, `counterRegressed` is set (§6.1.1) —
    /// not thrown, so the caller can flag the credential before refusing.
    ///
    /// - Throws: `WebAuthnError` naming the first check that failed.
    public func verifyAssertion(
        _ response: AssertionResponse, challenge: [UInt8], credential: StoredCredential, requireUserVerification: Bool
    ) throws(WebAuthnError) -> AssertionOutcome {
        guard constantTimeEquals(response.credentialID, credential.credentialID) else {
            throw WebAuthnError(.credentialMismatch, "the response is for another credential")
        }
        if let stored = credential.userHandle, let given = response.userHandle, !constantTimeEquals(stored, given) {
            throw WebAuthnError(.credentialMismatch, "the user handle is not the credential's")
        }
        let clientData = try checkedClientData(response.clientDataJSON, type: "webauthn.get", challenge: challenge)
        let authData = try AuthenticatorData(response.authenticatorData)
        try checkAuthenticatorData(authData, requireUserVerification: requireUserVerification)
        let key = try COSEKey(cose: credential.publicKey)
        guard key.isValidSignature(response.signature, for: authData.raw + AttestationObject.sha256(clientData.raw)) else {
            throw WebAuthnError(.badSignature, "the assertion signature does not verify")
        }
        let regressed = (authData.signCount != 0 || credential.signCount != 0) && authData.signCount <= credential.signCount
        return AssertionOutcome(
            signCount: authData.signCount, userVerified: authData.userVerified, backupEligible: authData.backupEligible,
            backedUp: authData.backedUp, counterRegressed: regressed)
    }

    /// Steps 5–12 of §7.1 (8–15 of §7.2): the client data.
    private func checkedClientData(_ json: [UInt8], type: String, challenge: [UInt8]) throws(WebAuthnError) -> ClientData {
        let clientData = try ClientData(json: json)
        guard clientData.type == type else { throw WebAuthnError(.wrongType, "clientDataJSON is for another ceremony") }
        guard constantTimeEquals(clientData.challenge, challenge) else {
            throw WebAuthnError(.challengeMismatch, "the challenge is not the one issued")
        }
        guard origins.contains(clientData.origin) else { throw WebAuthnError(.originMismatch, "the origin is not allowed") }
        guard !clientData.crossOrigin, clientData.topOrigin == nil else {
            throw WebAuthnError(.originMismatch, "cross-origin ceremonies are not accepted")
        }
        return clientData
    }

    /// The RP id hash and the user presence and verification flags.
    private func checkAuthenticatorData(_ authData: AuthenticatorData, requireUserVerification: Bool) throws(WebAuthnError) {
        guard constantTimeEquals(authData.rpIDHash, idHash) else {
            throw WebAuthnError(.rpIDMismatch, "the credential is scoped to another RP id")
        }
        guard authData.userPresent else { throw WebAuthnError(.userPresenceRequired, "the user was not present") }
        guard authData.userVerified || !requireUserVerification else {
            throw WebAuthnError(.userVerificationRequired, "the authenticator did not verify the user")
        }
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
