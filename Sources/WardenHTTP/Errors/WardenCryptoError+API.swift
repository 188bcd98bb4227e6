import HTTPTypes
import WardenCrypto

extension WardenCryptoError: APIErrorConvertible {
    var apiError: APIError {
        switch code {
        case .decryptionFailed, .unknownKeyVersion, .retiredKeyVersion, .destroyedKeyVersion, .invalidContext, .legacyKeyMissing:
            APIError(.badRequest, "decryption_failed", code == .decryptionFailed ? "decryption failed" : message)
        case .tooLarge: APIError(.contentTooLarge, "too_large", message)
        case .invalidOperation: APIError(.conflict, "invalid_operation", message)
        case .busy: .busy
        default: .unavailable
        }
    }
}
