import Crypto
import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// The envelope format: round trips, binding to header and context, and strict parsing.
struct EnvelopeTests {
    let context = "users/email/42"

    @Test func binaryAndTextFormsRoundTrip() async throws {
        let fixture = try await CipherFixture.make()
        for size in [0, 1, 15, 16, 17, 255, 4096, 65536] {
            let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let envelope = try await fixture.cipher.seal(plaintext, context: context)
            #expect(envelope.binary.count == size + FieldEnvelope.overhead)
            #expect(envelope.keyVersion == 1)
            #expect(envelope.text.hasPrefix("wd1:1:"))
            #expect(try fixture.cipher.open(envelope.binary, context: context).plaintext == plaintext)
            #expect(try fixture.cipher.open(envelope.text, context: context).plaintext == plaintext)
            #expect(try FieldEnvelope(text: envelope.text) == envelope)
            #expect(try FieldEnvelope(binary: envelope.binary) == envelope)
        }
    }

    @Test func theHeaderIsAsDocumented() async throws {
        let fixture = try await CipherFixture.make()
        try await fixture.cipher.rotate()
        let envelope = try await fixture.cipher.seal(Data("x".utf8), context: context)
        #expect(Array(envelope.binary.prefix(6)) == [0x57, 0x01, 0x00, 0x00, 0x00, 0x02])
    }

    /// The known-answer vector in docs/formats.md: a fixed data key and nonce.
    @Test func documentedVector() throws {
        let key = AESGCMContext(key: SymmetricKey(data: [UInt8](hex: String(repeating: "00", count: 31) + "01")))
        let nonce = NoncePool.Nonce(high: 0, low: 0)
        let envelope = FieldEnvelope.seal(Data("ada@example.com".utf8), key: key, keyVersion: 1, context: "users/email/42".utf8, nonce: nonce)
        #expect(Array(envelope.binary).hex == FormatsDocument.vectorBinaryHex)
        #expect(envelope.text == FormatsDocument.vectorText)
        #expect(envelope.open(key: key, context: "users/email/42".utf8) == Data("ada@example.com".utf8))
    }

    @Test func everyFlippedBitFailsWithTheGenericError() async throws {
        let fixture = try await CipherFixture.make()
        let envelope = try await fixture.cipher.seal(Data("a secret value".utf8), context: context)
        let binary = Array(envelope.binary)
        for index in binary.indices {
            for bit in 0..<8 {
                var tampered = binary
                tampered[index] ^= UInt8(1 << bit)
                let error = try #require(throws: WardenCryptoError.self) {
                    try fixture.cipher.open(Data(tampered), context: context)
                }
                // Flipping a key-version bit may name a version that does not exist: a clear error is
                // allowed there; everything else must be the one generic failure.
                if (2..<6).contains(index) {
                    #expect(error.code == .decryptionFailed || error.code == .unknownKeyVersion)
                } else {
                    #expect(error.code == .decryptionFailed)
                    #expect(error.message == "decryption failed")
                }
            }
        }
    }

    @Test func everyTruncationFails() async throws {
        let fixture = try await CipherFixture.make()
        let envelope = try await fixture.cipher.seal(Data("a secret value".utf8), context: context)
        for length in 0..<envelope.binary.count {
            #expect(throws: WardenCryptoError.decryptionFailed) {
                try fixture.cipher.open(envelope.binary.prefix(length), context: context)
            }
        }
        let text = envelope.text
        for length in 0..<text.count {
            #expect(throws: WardenCryptoError.self) {
                try fixture.cipher.open(String(text.prefix(length)), context: context)
            }
        }
        #expect(throws: WardenCryptoError.decryptionFailed) {
            try fixture.cipher.open(envelope.binary + Data([0]), context: context)
        }
    }

    @Test func aCiphertextMovedToAnotherContextFails() async throws {
        let fixture = try await CipherFixture.make()
        let envelope = try await fixture.cipher.seal(Data("ada@example.com".utf8), context: "users/email/42")
        for other in ["users/email/43", "users/phone/42", "users/email/42 ", "Users/email/42", "users/email/4"] {
            #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(envelope, context: other) }
        }
        #expect(fixture.failures.all.allSatisfy { $0.reason == .authenticationFailed && $0.format == "envelope" })
        #expect(fixture.failures.all.count == 5)
    }

    @Test func anEditedKeyVersionFails() async throws {
        let fixture = try await CipherFixture.make()
        let first = try await fixture.cipher.seal(Data("one".utf8), context: context)
        try await fixture.cipher.rotate()
        // Relabel a version-1 envelope as version 2 (which exists): authentication fails.
        var relabelled = first.binary
        relabelled[5] = 2
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(relabelled, context: context) }
        // The same through the text form.
        let text = first.text.replacingOccurrences(of: "wd1:1:", with: "wd1:2:")
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(text, context: context) }
        // A version that does not exist is reported as such.
        relabelled[5] = 9
        let error = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(relabelled, context: context) }
        #expect(error.code == .unknownKeyVersion)
    }

    @Test(arguments: [
        "", "wd1:", "wd1:1", "wd1:1:", "wd1::AAAA", "wd1:0:" + String(repeating: "A", count: 40),
        "wd1:01:" + String(repeating: "A", count: 40), "wd1:+1:" + String(repeating: "A", count: 40),
        "wd1:4294967296:" + String(repeating: "A", count: 40), "wd2:1:" + String(repeating: "A", count: 40),
        "WD1:1:" + String(repeating: "A", count: 40), "wd1:1:" + String(repeating: "A", count: 36),
        "wd1:1:" + String(repeating: "A", count: 40) + "=", "wd1:1:" + String(repeating: "A", count: 38) + "B",
        "wd1:1:" + String(repeating: "A", count: 39) + "+", "wd1:1:" + String(repeating: "A", count: 40) + "\n",
        " wd1:1:" + String(repeating: "A", count: 40), "wd1:1: " + String(repeating: "A", count: 40),
    ])
    func malformedTextIsRejected(_ text: String) throws {
        #expect(throws: WardenCryptoError.decryptionFailed) { try FieldEnvelope(text: text) }
    }

    @Test func malformedBinaryIsRejected() throws {
        let valid: [UInt8] = [0x57, 0x01, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 28)
        #expect(throws: Never.self) { try FieldEnvelope(binary: valid) }
        for broken in [
            Array(valid.dropLast()), [0x58] + valid.dropFirst(), [0x57, 0x02] + valid.dropFirst(2),
            [0x57, 0x01, 0, 0, 0, 0] + valid.dropFirst(6),
        ] {
            #expect(throws: WardenCryptoError.decryptionFailed) { try FieldEnvelope(binary: broken) }
        }
    }

    @Test func unrecognisedInputIsTheGenericFailure() async throws {
        let fixture = try await CipherFixture.make()
        for input in ["hello", "gAAAA", "[1,2]", "\u{0}", "vault:v1:abc"] {
            #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(input, context: context) }
        }
    }

    @Test func sizeLimitsApplyBeforeAnyWork() async throws {
        let fixture = try await CipherFixture.make(maxPlaintextBytes: 1024)
        let error = try await #require(throws: WardenCryptoError.self) {
            try await fixture.cipher.seal(Data(count: 1025), context: context)
        }
        #expect(error.code == .tooLarge)
        // No seal was reserved or counted for the refused input.
        #expect(fixture.cipher.sealCount(version: 1) == 0)
        #expect(await fixture.store.writeCount == 1)
        _ = try await fixture.cipher.seal(Data(count: 1024), context: context)

        let big = try await CipherFixture.make(maxPlaintextBytes: 4096)
        let large = try await big.cipher.seal(Data(count: 4096), context: context)
        let tooLargeToOpen = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(large, context: context) }
        #expect(tooLargeToOpen.code == .tooLarge)
        let tooLargeText = try #require(throws: WardenCryptoError.self) {
            try fixture.cipher.open(String(repeating: "A", count: 10_000), context: context)
        }
        #expect(tooLargeText.code == .tooLarge)
    }

    @Test func contextsMustBeNonEmptyAndBounded() async throws {
        let fixture = try await CipherFixture.make()
        for bad in ["", String(repeating: "x", count: 1025)] {
            let error = try await #require(throws: WardenCryptoError.self) {
                try await fixture.cipher.seal(Data("x".utf8), context: bad)
            }
            #expect(error.code == .invalidContext)
        }
    }

    @Test func errorsNeverCarryInputBytes() async throws {
        let fixture = try await CipherFixture.make()
        let envelope = try await fixture.cipher.seal(Data("hunter2-hunter2".utf8), context: context)
        let error = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(envelope.text, context: "other") }
        #expect(!String(describing: error).contains(envelope.text))
        #expect(!String(describing: error).contains("hunter2"))
        #expect(!fixture.failures.all.description.contains(envelope.text))
    }
}

/// The values docs/formats.md shows for its envelope vector (computed independently with Python's
/// `cryptography` AESGCM: key 00…01, nonce 00…00, associated data = header ‖ "users/email/42").
enum FormatsDocument {
    static let vectorBinaryHex =
        "570100000001" + "000000000000000000000000"
        + "38f30cefad1a2aa2204d24ada172e0" + "0af7edd3fb9ddac621a25fb433243674"
    static let vectorText = "wd1:1:AAAAAAAAAAAAAAAAOPMM760aKqIgTSStoXLgCvft0_ud2sYhol-0MyQ2dA"
}
