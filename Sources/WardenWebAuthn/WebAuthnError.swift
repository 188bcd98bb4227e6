public import WardenCore

/// A refusal from the WebAuthn module: a malformed message, a failed ceremony check or an unsupported
/// choice of the authenticator.
///
/// Messages are fixed strings, safe to show and to log: they never contain bytes, text or lengths taken
/// from the input. The `code` tells the caller (and the audit log) which check failed.
public struct WebAuthnError: Error, Sendable, Equatable, CustomStringConvertible {
    public typealias Code = ErrorCode<WebAuthnError>

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

extension ErrorCode where Domain == WebAuthnError {
    /// The bytes are not well-formed CBOR, JSON, base64url or authenticator data.
    public static var malformed: Self { Self("webauthn.malformed") }
    /// A message, length, count or nesting depth exceeds Warden's limits.
    public static var tooLarge: Self { Self("webauthn.too_large") }
    /// `clientDataJSON.type` (or the credential type) is not the one this ceremony expects.
    public static var wrongType: Self { Self("webauthn.wrong_type") }
    /// The challenge in `clientDataJSON` is not the one Warden issued.
    public static var challengeMismatch: Self { Self("webauthn.challenge_mismatch") }
    /// The origin is not one of the relying party's origins, or the request was cross-origin.
    public static var originMismatch: Self { Self("webauthn.origin_mismatch") }
    /// `rpIdHash` in the authenticator data is not SHA-256 of the relying party id.
    public static var rpIDMismatch: Self { Self("webauthn.rp_id_mismatch") }
    /// The user-present flag is not set.
    public static var userPresenceRequired: Self { Self("webauthn.user_presence_required") }
    /// User verification was required and the user-verified flag is not set.
    public static var userVerificationRequired: Self { Self("webauthn.user_verification_required") }
    /// A signature (assertion or packed self-attestation) does not verify.
    public static var badSignature: Self { Self("webauthn.bad_signature") }
    /// The credential key uses an algorithm, curve or key size Warden does not accept.
    public static var unsupportedAlgorithm: Self { Self("webauthn.unsupported_algorithm") }
    /// The attestation format is not `none` or `packed` self-attestation.
    public static var unsupportedAttestation: Self { Self("webauthn.unsupported_attestation") }
    /// The credential id does not match (`id` ≠ `rawId`, authenticator data ≠ response, or ≠ the
    /// stored credential).
    public static var credentialMismatch: Self { Self("webauthn.credential_mismatch") }
}
