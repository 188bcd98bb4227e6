/// A refusal from the WebAuthn module: a malformed message, a failed ceremony check or an unsupported
/// choice of the authenticator.
///
/// Messages are fixed strings, safe to show and to log: they never contain bytes, text or lengths taken
/// from the input. The `code` tells the caller (and the audit log) which check failed.
public struct WebAuthnError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The bytes are not well-formed CBOR, JSON, base64url or authenticator data.
        public static let malformed = Code("webauthn.malformed")
        /// A message, length, count or nesting depth exceeds Warden's limits.
        public static let tooLarge = Code("webauthn.too_large")
        /// `clientDataJSON.type` (or the credential type) is not the one this ceremony expects.
        public static let wrongType = Code("webauthn.wrong_type")
        /// The challenge in `clientDataJSON` is not the one Warden issued.
        public static let challengeMismatch = Code("webauthn.challenge_mismatch")
        /// The origin is not one of the relying party's origins, or the request was cross-origin.
        public static let originMismatch = Code("webauthn.origin_mismatch")
        /// `rpIdHash` in the authenticator data is not SHA-256 of the relying party id.
        public static let rpIDMismatch = Code("webauthn.rp_id_mismatch")
        /// The user-present flag is not set.
        public static let userPresenceRequired = Code("webauthn.user_presence_required")
        /// User verification was required and the user-verified flag is not set.
        public static let userVerificationRequired = Code("webauthn.user_verification_required")
        /// A signature (assertion or packed self-attestation) does not verify.
        public static let badSignature = Code("webauthn.bad_signature")
        /// The credential key uses an algorithm, curve or key size Warden does not accept.
        public static let unsupportedAlgorithm = Code("webauthn.unsupported_algorithm")
        /// The attestation format is not `none` or `packed` self-attestation.
        public static let unsupportedAttestation = Code("webauthn.unsupported_attestation")
        /// The credential id does not match (`id` ≠ `rawId`, authenticator data ≠ response, or ≠ the
        /// stored credential).
        public static let credentialMismatch = Code("webauthn.credential_mismatch")
    }

    public let code: Code
    /// A fixed description of the failed check; never contains input.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func malformed(_ message: String) -> WebAuthnError { WebAuthnError(.malformed, message) }
    static func tooLarge(_ message: String) -> WebAuthnError { WebAuthnError(.tooLarge, message) }
}
