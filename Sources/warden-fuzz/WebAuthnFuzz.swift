import WardenWebAuthn

/// The WebAuthn parsers: CBOR, COSE keys, authenticator data, attestation objects, client data and the
/// response JSON. None may crash; what they accept must be consistent.
func fuzzWebAuthn(_ input: [UInt8]) {
    // CBOR decoding is deterministic, and a whole-input decode is the prefix decode that used every byte.
    // Compared through descriptions: NaN is not equal to itself.
    let whole = try? CBORDecoder.decode(input)
    precondition(String(reflecting: whole) == String(reflecting: try? CBORDecoder.decode(input)), "CBOR decoding is not deterministic")
    if let (value, consumed) = try? CBORDecoder.decodePrefix(input[...]) {
        precondition(consumed > 0 && consumed <= input.count, "CBOR consumed more than it was given")
        precondition((whole != nil) == (consumed == input.count), "CBOR whole and prefix decoding disagree")
        let alone = (try? CBORDecoder.decode(Array(input[..<consumed]))).map { String(reflecting: $0) }
        precondition(alone == String(reflecting: value), "CBOR prefix decodes differently alone")
    } else {
        precondition(whole == nil, "CBOR decodes whole but not as a prefix")
    }

    if let key = try? COSEKey(cose: input) {
        precondition(key.bytes == input, "a COSE key lost its encoding")
        _ = key.isValidSignature(input, for: input)
        _ = key.isValidSignature([], for: [])
    }

    if let authData = try? AuthenticatorData(input) {
        precondition(authData.raw == input, "authenticator data lost its bytes")
        precondition((authData.attestedCredential != nil) == authData.flags.contains(.attestedCredentialData), "AT flag and data disagree")
        precondition((authData.extensions != nil) == authData.flags.contains(.extensionData), "ED flag and data disagree")
        precondition(!authData.backedUp || authData.backupEligible, "backed up without backup eligible")
        if let credential = authData.attestedCredential {
            precondition(credential.aaguid.count == 16, "AAGUID is not 16 bytes")
            precondition((1...AuthenticatorData.maxCredentialIDLength).contains(credential.credentialID.count), "credential id length out of range")
            precondition((try? COSEKey(cose: credential.publicKey.bytes))?.algorithm == credential.publicKey.algorithm, "a COSE key does not re-read")
        }
    }

    if let attestation = try? AttestationObject(input) {
        _ = try? attestation.verify(clientDataHash: [UInt8](repeating: 0, count: 32))
    }

    _ = try? ClientData(json: input)
    let rp = RelyingParty(id: "example.org", name: "Example", origins: ["https://example.org"])
    if let registration = try? RegistrationResponse(json: input) {
        _ = try? rp.verifyRegistration(registration, challenge: [], requireUserVerification: false)
    }
    if let assertion = try? AssertionResponse(json: input) {
        let stored = StoredCredential(credentialID: assertion.credentialID, publicKey: [], signCount: 0)
        _ = try? rp.verifyAssertion(assertion, challenge: [], credential: stored, requireUserVerification: false)
    }
}
