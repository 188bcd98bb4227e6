import WardenCore

extension RelyingParty {
    /// The options for `navigator.credentials.create()` in the shape of
    /// `PublicKeyCredentialCreationOptionsJSON` (WebAuthn L3 §5.4), ready for
    /// `PublicKeyCredential.parseCreationOptionsFromJSON()`; byte fields are unpadded base64url.
    ///
    /// Offers ES256, EdDSA and RS256, in that order, and asks for attestation `"none"`.
    ///
    /// - Parameters:
    ///   - challenge: At least 16 random bytes, issued once.
    ///   - userID: The user handle: opaque, at most 64 bytes, never an email or name.
    ///   - exclude: Credential ids the account already has, so an authenticator is not registered twice.
    ///   - residentKey: `"required"`, `"preferred"` or `"discouraged"`.
    ///   - userVerification: `"required"`, `"preferred"` or `"discouraged"`.
    public func creationOptions(
        challenge: [UInt8], userID: [UInt8], userName: String, displayName: String, exclude: [[UInt8]],
        residentKey: String = "required", userVerification: String = "preferred", timeoutMilliseconds: Int = 300_000
    ) -> [String: Any] {
        [
            "rp": ["id": id, "name": name],
            "user": ["id": Self.base64url(userID), "name": userName, "displayName": displayName],
            "challenge": Self.base64url(challenge),
            "pubKeyCredParams": COSEAlgorithm.allCases.map { ["type": "public-key", "alg": $0.rawValue] as [String: Any] },
            "timeout": timeoutMilliseconds,
            "excludeCredentials": Self.descriptors(exclude),
            "authenticatorSelection": [
                "residentKey": residentKey,
                "requireResidentKey": residentKey == "required",
                "userVerification": userVerification,
            ] as [String: Any],
            "attestation": "none",
        ]
    }

    /// The options for `navigator.credentials.get()` in the shape of
    /// `PublicKeyCredentialRequestOptionsJSON` (§5.5).
    ///
    /// - Parameters:
    ///   - allow: The credential ids that may answer; empty for a discoverable-credential (username-less)
    ///     login.
    public func requestOptions(
        challenge: [UInt8], allow: [[UInt8]], userVerification: String, timeoutMilliseconds: Int = 300_000
    ) -> [String: Any] {
        [
            "challenge": Self.base64url(challenge),
            "timeout": timeoutMilliseconds,
            "rpId": id,
            "allowCredentials": Self.descriptors(allow),
            "userVerification": userVerification,
        ]
    }

    private static func descriptors(_ ids: [[UInt8]]) -> [[String: Any]] {
        ids.map { ["type": "public-key", "id": base64url($0)] }
    }

    static func base64url(_ bytes: [UInt8]) -> String { Base64.encode(bytes, alphabet: .url, padded: false) }
}
