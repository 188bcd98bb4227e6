import Foundation
import WardenCore

@testable import WardenCrypto

/// One fuzzing input pushed through every parser WardenCrypto owns, with the properties they must keep.
///
/// Used by the `warden-fuzz` target, both under libFuzzer and as a corpus replay in the test script.
/// A violated property stops the process (`precondition`), which the fuzzer reports as a crash.
enum FuzzEntry {
    /// A fixed keyring and legacy keys, so inputs also reach the authentication checks.
    private static let fixture: (keyring: Keyring, legacy: LegacyReader) = {
        let masterKey = try! MasterKey(bytes: [UInt8](repeating: 0x42, count: 32))
        let document = try! KeyringDocument.create(masterKey: masterKey, now: Date(timeIntervalSince1970: 1_800_000_000))
        let legacy = LegacyReader(
            keys: try! LegacyKeys(
                masterKey: Base64.encode([UInt8](repeating: 1, count: 32)),
                encryptionKey: Base64.encode((0..<32).map { UInt8($0) }, alphabet: .url),
                allowedVersions: ["v_20250829_120000_0a1b2c3d"]))
        return (try! Keyring(document: document, masterKey: masterKey), legacy)
    }()

    static func run(_ input: [UInt8]) {
        let (keyring, legacy) = fixture
        // Base64: whatever decodes must re-encode to exactly the input (one encoding per byte string).
        for alphabet in [Base64.Alphabet.standard, .url] {
            if let bytes = Base64.decode(utf8: input, alphabet: alphabet, padding: .required) {
                precondition(Array(Base64.encode(bytes, alphabet: alphabet, padded: true).utf8) == input, "base64 not canonical")
            }
            if let bytes = Base64.decode(utf8: input, alphabet: alphabet, padding: .forbidden) {
                precondition(Array(Base64.encode(bytes, alphabet: alphabet, padded: false).utf8) == input, "base64 not canonical")
            }
        }
        // Python's lenient decoders (the original's keys): `urlsafe_b64decode` is `b64decode` after
        // mapping `-` and `_`, and on canonical input the lenient decoder agrees with the strict one.
        if let text = String(validating: input, as: UTF8.self) {
            let mapped = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
            precondition(PythonBase64.urlsafeDecode(text) == PythonBase64.standardDecode(mapped), "urlsafe decoding is not b64decode after mapping")
            if let strict = Base64.decode(utf8: input, alphabet: .standard, padding: .required) {
                precondition(PythonBase64.standardDecode(text) == strict, "lenient decoding differs on canonical input")
            }
        }
        // Binary envelopes: parse, and never open under a key that did not seal them.
        if let envelope = try? FieldEnvelope(binary: input) {
            precondition(Array(envelope.binary) == input)
            if let key = try? keyring.openingKey(for: envelope.keyVersion) {
                precondition(envelope.open(key: key, context: Array("fuzz".utf8)) == nil, "forged envelope opened")
            }
        }
        // Text envelopes: a parsed text re-encodes to itself.
        if let text = String(validating: input, as: UTF8.self), let envelope = try? FieldEnvelope(text: text) {
            precondition(envelope.text == text, "text envelope not canonical")
            precondition(try! FieldEnvelope(binary: envelope.binary) == envelope)
        }
        // Fernet tokens and legacy JSON envelopes: parse and authenticate; nothing forged may open.
        if let token = Fernet.Token(text: input), let key = legacy.keys.fernetKey {
            precondition(!token.isAuthentic(under: key), "forged Fernet token authenticated")
        }
        if case .opened = try? legacy.openJSON(input) {
            preconditionFailure("forged legacy JSON envelope opened")
        }
        _ = LegacyJSONEnvelope(json: input)
    }
}
