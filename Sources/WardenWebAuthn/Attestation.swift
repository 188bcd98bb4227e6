import Crypto

/// An attestation object (WebAuthn L3 §6.5): a CBOR map of `fmt` (text), `attStmt` (map) and
/// `authData` (bytes).
///
/// Warden asks for attestation `"none"` (see `RelyingParty.creationOptions`), so browsers send `none`;
/// some authenticators still self-attest with `packed`. Those two are verified:
///
/// - `none`: `attStmt` must be the empty map.
/// - `packed` self-attestation: `attStmt` is `{alg, sig}` without `x5c`; `alg` must be the credential
///   key's algorithm and `sig` that key's signature over `authData ‖ SHA-256(clientDataJSON)`.
///
/// - Important: every other format, and `packed` with a certificate chain (`x5c`), is refused with
///   `.unsupportedAttestation`: Warden keeps no trust anchors, so it could not tell a genuine chain from a
///   forged one, and accepting it unverified would pretend a guarantee it does not give.
public struct AttestationObject: Sendable {
    /// Largest attestation object accepted.
    public static let maxLength = 65_536

    /// The attestation statement format, e.g. `"none"` or `"packed"`.
    public let format: String
    /// The attestation statement.
    public let statement: CBORValue
    public let authenticatorData: AuthenticatorData

    /// Parses `bytes`; does not verify the statement (see `verify(clientDataHash:)`).
    ///
    /// - Throws: `WebAuthnError` `.malformed`, `.tooLarge` or `.unsupportedAlgorithm` (from the
    ///   authenticator data).
    public init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count <= Self.maxLength else { throw .tooLarge("the attestation object is too large") }
        let value = try CBORDecoder.decode(bytes)
        guard value.mapEntries != nil else { throw .malformed("the attestation object is not a map") }
        guard let format = value[text: "fmt"]?.textString,
            let statement = value[text: "attStmt"], statement.mapEntries != nil,
            let authData = value[text: "authData"]?.byteString
        else { throw .malformed("the attestation object needs fmt, attStmt and authData") }
        self.format = format
        self.statement = statement
        self.authenticatorData = try AuthenticatorData(authData)
    }

    /// Verifies the statement over the authenticator data and `clientDataHash` (SHA-256 of
    /// `clientDataJSON`).
    ///
    /// - Throws: `WebAuthnError` `.unsupportedAttestation` for a format or kind not listed above,
    ///   `.malformed` for a statement of the wrong shape or without a credential, `.badSignature` when the
    ///   self-attestation signature does not verify.
    public func verify(clientDataHash: [UInt8]) throws(WebAuthnError) {
        guard let credential = authenticatorData.attestedCredential else {
            throw .malformed("the attestation object carries no credential")
        }
        switch format {
        case "none":
            guard statement.mapEntries?.isEmpty == true else { throw .malformed("a none attestation statement must be empty") }
        case "packed":
            if statement[text: "x5c"] != nil || statement[text: "ecdaaKeyId"] != nil {
                throw WebAuthnError(.unsupportedAttestation, "packed attestation with a certificate chain is not accepted")
            }
            guard let entries = statement.mapEntries, entries.count == 2,
                let alg = statement[text: "alg"]?.int64, let signature = statement[text: "sig"]?.byteString
            else { throw .malformed("a packed self-attestation statement needs alg and sig") }
            guard alg == Int64(credential.publicKey.algorithm.rawValue) else {
                throw .malformed("the self-attestation algorithm is not the credential key's")
            }
            guard credential.publicKey.isValidSignature(signature, for: authenticatorData.raw + clientDataHash) else {
                throw WebAuthnError(.badSignature, "the self-attestation signature does not verify")
            }
        default:
            throw WebAuthnError(.unsupportedAttestation, "only none and packed self-attestation are accepted")
        }
    }
}

extension AttestationObject {
    /// SHA-256 of `bytes` as an array.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
