import Crypto
import CryptoExtras

/// The COSE signature algorithms Warden accepts for passkeys, in the order it offers them.
public enum COSEAlgorithm: Int, Sendable, CaseIterable {
    /// ECDSA with P-256 and SHA-256; signatures are DER.
    case es256 = -7
    /// EdDSA, here always Ed25519; signatures are the raw 64 bytes.
    case edDSA = -8
    /// RSASSA-PKCS1-v1_5 with SHA-256, moduli of 2048 to 4096 bits.
    case rs256 = -257
}

/// A credential public key in its COSE encoding (RFC 9052 §7, RFC 9053), parsed and checked.
///
/// Accepted: ES256 (kty 2 EC2, crv 1 P-256, 32-byte x and y on the curve), EdDSA (kty 1 OKP, crv 6
/// Ed25519, 32-byte x) and RS256 (kty 3, n of 2048–4096 bits, e). The `alg` parameter is required and
/// decides the algorithm; a key whose parameters do not match it is refused. Other parameters (`kid`,
/// `key_ops`) are ignored.
public struct COSEKey: Sendable {
    /// The algorithm the key signs with.
    public let algorithm: COSEAlgorithm
    /// The COSE encoding the key was read from, for storage.
    public let bytes: [UInt8]

    private enum Key: Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    private let key: Key

    // COSE labels (RFC 9052 §7.1, RFC 9053 §7).
    private static let kty: Int64 = 1, alg: Int64 = 3, crv: Int64 = -1, x: Int64 = -2, y: Int64 = -3
    private static let rsaN: Int64 = -1, rsaE: Int64 = -2

    /// Reads a COSE key that is exactly `cose`.
    ///
    /// - Throws: `WebAuthnError` `.malformed` for bad CBOR or key material, `.unsupportedAlgorithm` for
    ///   any algorithm, key type, curve or size not listed above.
    public init(cose: [UInt8]) throws(WebAuthnError) {
        try self.init(value: CBORDecoder.decode(cose), bytes: cose)
    }

    /// Reads a COSE key from its decoded form; `bytes` is the encoding it was decoded from.
    init(value: CBORValue, bytes: [UInt8]) throws(WebAuthnError) {
        guard value.mapEntries != nil else { throw .malformed("the COSE key is not a map") }
        guard let kty = value[int: Self.kty]?.int64, let alg = value[int: Self.alg]?.int64 else {
            throw .malformed("the COSE key lacks kty or alg")
        }
        guard let algorithm = COSEAlgorithm(rawValue: Int(alg)) else {
            throw WebAuthnError(.unsupportedAlgorithm, "the credential key's algorithm is not accepted")
        }
        self.algorithm = algorithm
        self.bytes = bytes
        switch algorithm {
        case .es256:
            guard kty == 2, value[int: Self.crv]?.int64 == 1 else {
                throw WebAuthnError(.unsupportedAlgorithm, "ES256 needs an EC2 key on P-256")
            }
            guard let x = value[int: Self.x]?.byteString, let y = value[int: Self.y]?.byteString, x.count == 32, y.count == 32 else {
                throw .malformed("the P-256 key needs 32-byte x and y")
            }
            // The x9.63 initialiser checks that the point is on the curve.
            guard let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y) else {
                throw .malformed("the P-256 key is not a point on the curve")
            }
            self.key = .p256(key)
        case .edDSA:
            guard kty == 1, value[int: Self.crv]?.int64 == 6 else {
                throw WebAuthnError(.unsupportedAlgorithm, "EdDSA is accepted with Ed25519 keys only")
            }
            guard let x = value[int: Self.x]?.byteString, x.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x)
            else { throw .malformed("the Ed25519 key needs a 32-byte x") }
            self.key = .ed25519(key)
        case .rs256:
            guard kty == 3 else { throw WebAuthnError(.unsupportedAlgorithm, "RS256 needs an RSA key") }
            guard let n = value[int: Self.rsaN]?.byteString, let e = value[int: Self.rsaE]?.byteString,
                !e.isEmpty, e.count <= 8
            else { throw .malformed("the RSA key needs n and e") }
            let modulus = n.drop { $0 == 0 }
            let bits = modulus.first.map { modulus.count * 8 - $0.leadingZeroBitCount } ?? 0
            guard (2048...4096).contains(bits) else {
                throw WebAuthnError(.unsupportedAlgorithm, "RSA keys must have 2048 to 4096 bits")
            }
            guard let key = try? _RSA.Signing.PublicKey(n: Array(modulus), e: e) else {
                throw .malformed("the RSA key is not valid")
            }
            self.key = .rsa(key)
        }
    }

    /// Whether `signature` is this key's signature over `data` with its algorithm (ES256: DER ECDSA over
    /// SHA-256; EdDSA: the raw 64 bytes; RS256: PKCS #1 v1.5 over SHA-256).
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        switch key {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: data)
        case .ed25519(let key):
            return signature.count == 64 && key.isValidSignature(signature, for: data)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: .insecurePKCS1v1_5)
        }
    }
}
