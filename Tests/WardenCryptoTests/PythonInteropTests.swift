import Crypto
import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// Interoperability with Python's `cryptography`: data the original system wrote opens in Warden, and the
/// envelope format in docs/formats.md is exactly what an independent implementation reads and writes.
@Suite(.serialized)
struct PythonInteropTests {
    struct Fixture: Decodable {
        let format: String
        let input: String
        let expected: String
    }

    static let masterKey = Base64.encode([UInt8](repeating: 0x5A, count: 32), alphabet: .url)
    /// A key with `-` and `_`: only the raw-Fernet reading decodes it.
    static let urlOnlyKey = Base64.encode([UInt8](repeating: 0xFB, count: 32), alphabet: .url)
    /// A key without them: both readings decode it, and the HMAC decides.
    static let ambiguousKey = Base64.encode((0..<32).map { UInt8($0) }, alphabet: .url)

    @Test func allThreeLegacyFormatsWrittenByPythonOpen() async throws {
        let environment = ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey, "DIGITAL_TWIN_ENCRYPTION_KEY": Self.ambiguousKey]
        let fixtures = try JSONDecoder().decode([Fixture].self, from: Data(try await Python.run(["legacy"], environment: environment).utf8))
        #expect(fixtures.count == 18)
        let legacyKeys = try #require(try LegacyKeys.fromEnvironment(environment))
        let fixture = try await CipherFixture.make(legacyKeys: legacyKeys)
        for case let item in fixtures {
            let opened = try fixture.cipher.open(item.input, context: "profiles/email/1")
            #expect(String(decoding: opened.plaintext, as: UTF8.self) == item.expected, "\(item.format)")
            #expect(opened.source.format == item.format)
            #expect(opened.needsRewrap)
            // Migration: rewrap binds the value to a context and a Warden key version.
            let rewrapped = try await fixture.cipher.rewrap(item.input, context: "profiles/email/1")
            #expect(try fixture.cipher.open(rewrapped, context: "profiles/email/1").plaintext == opened.plaintext)
        }
        if case .legacyJSON(let version) = try fixture.cipher.open(fixtures[0].input, context: "c").source {
            #expect(LegacyJSONEnvelope.versionIsValid(version))
        } else {
            Issue.record("the first fixture should be a JSON envelope")
        }
    }

    @Test func rawFernetTokensUnderAURLSafeKeyOpen() async throws {
        let environment = ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey, "DIGITAL_TWIN_ENCRYPTION_KEY": Self.urlOnlyKey]
        let fixtures = try JSONDecoder().decode([Fixture].self, from: Data(try await Python.run(["legacy"], environment: environment).utf8))
        #expect(fixtures.count == 12)
        let fixture = try await CipherFixture.make(legacyKeys: try LegacyKeys.fromEnvironment(environment))
        for item in fixtures {
            let opened = try fixture.cipher.open(item.input, context: "c")
            #expect(String(decoding: opened.plaintext, as: UTF8.self) == item.expected)
            #expect(opened.source.format == item.format)
        }
    }

    /// A standard-alphabet key with `+` and `/` (what the digital-twin module required): both readings
    /// decode it, as in Python, so raw Fernet tokens and twin tokens under it both open, and so does a
    /// URL-alphabet key's raw Fernet tokens. Each also upgrades into an envelope bound to the context.
    @Test(arguments: [
        (Base64.encode([UInt8](repeating: 0xFB, count: 32), alphabet: .standard), 18),
        (Base64.encode([UInt8](repeating: 0xFB, count: 32), alphabet: .url), 12),
    ])
    func fernetTokensUnderEitherAlphabetOpen(key: String, count: Int) async throws {
        #expect(key.contains(count == 18 ? "+" : "-") && key.contains(count == 18 ? "/" : "_"))
        let environment = ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey, "DIGITAL_TWIN_ENCRYPTION_KEY": key]
        let fixtures = try JSONDecoder().decode([Fixture].self, from: Data(try await Python.run(["legacy"], environment: environment).utf8))
        #expect(fixtures.count == count)
        #expect(fixtures.contains { $0.format == "legacy-fernet" })
        #expect(fixtures.contains { $0.format == "legacy-twin-fernet" } == (count == 18))
        let fixture = try await CipherFixture.make(legacyKeys: try LegacyKeys.fromEnvironment(environment))
        for item in fixtures {
            let opened = try fixture.cipher.open(item.input, context: "c")
            #expect(String(decoding: opened.plaintext, as: UTF8.self) == item.expected, "\(item.format)")
            #expect(opened.source.format == item.format)
            let field = try await fixture.cipher.openUpgrading(item.input, context: "profiles/notes/3")
            #expect(field.plaintext == opened.plaintext && field.source == opened.source)
            let upgraded = try #require(field.upgraded)
            #expect(try fixture.cipher.open(upgraded, context: "profiles/notes/3").plaintext == opened.plaintext)
        }
    }

    /// `DIGITAL_TWIN_ENCRYPTION_KEY` is decoded exactly as Python decoded it: `urlsafe_b64decode` for the
    /// Fernet reading, `b64decode` for the digital-twin one (both lenient), on edge cases and on many
    /// pseudo-random strings.
    @Test func keysDecodeExactlyAsPythonDecodesThem() async throws {
        var cases = [
            "", "QQ==", "QQ", "QQ=", "QQ===", "Q===", "QUI=", "QUJD", "QUJD=", "-_==", "+/==", "+_-/", "QQ==junk", "Q=Q=",
            "QQ==QUJD", "Q Q = =", "QR==", "QUJ=", "\nQUJD\n", "é", "QUJDé", "=QUJD", "QU=JD", "QU==JD==", "!!!!", "Q.Q.==",
            Base64.encode([UInt8](repeating: 0xFB, count: 32)), Base64.encode([UInt8](repeating: 0xFB, count: 32), alphabet: .url),
            Base64.encode([UInt8](repeating: 0xFB, count: 32), padded: false), " " + Base64.encode((0..<32).map { UInt8($0) }) + "\n",
            "+/v7-_v7+/v7-_v7+/v7-_v7+/v7-_v7+/v7-_v7+/s=",
        ]
        var generator = SplitMix64(seed: 12)
        let alphabet = Array("AQZaz09+/-_= \n.!é")
        for _ in 0..<600 {
            let length = Int(generator.next() % 14)
            cases.append(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        let json = String(decoding: try JSONEncoder().encode(cases), as: UTF8.self)
        let expected = try JSONDecoder().decode([[String?]].self, from: Data(try await Python.run(["decode-keys", json]).utf8))
        #expect(expected.count == cases.count)
        for (text, python) in zip(cases, expected) {
            #expect(PythonBase64.urlsafeDecode(text)?.hex == python[0], "urlsafe_b64decode(\(text.debugDescription))")
            #expect(PythonBase64.standardDecode(text)?.hex == python[1], "b64decode(\(text.debugDescription))")
        }
    }

    /// A JSON envelope under a version with 4 hex digits, as the original's documentation shows them.
    @Test func aFourHexVersionEnvelopeFromPythonOpens() async throws {
        let version = "v_20240827_140523_a1b2"
        let envelope = try await Python.run(["json-envelope", version, "Zoë's notes"], environment: ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey])
        #expect(envelope.hasPrefix("{\"version\": \"\(version)\", \"iv\": \""))
        let fixture = try await CipherFixture.make(legacyKeys: LegacyKeys(masterKey: Self.masterKey))
        let opened = try fixture.cipher.open(envelope, context: "c")
        #expect(opened.plaintext == Data("Zoë's notes".utf8))
        #expect(opened.source == .legacyJSON(version: version))
        let field = try await fixture.cipher.openUpgrading(envelope, context: "profiles/notes/4")
        #expect(field.source == .legacyJSON(version: version) && field.upgraded != nil)
        // Other short versions are still refused before any derivation.
        let odd = try await Python.run(["json-envelope", "v_20240827_140523_a1b", "x"], environment: ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey])
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(odd, context: "c") }
        #expect(fixture.failures.all.last?.reason == .invalidLegacyVersion)
    }

    @Test func tokensUnderAnotherKeyDoNotOpen() async throws {
        let environment = ["DIGITAL_TWIN_MASTER_KEY": Self.masterKey, "DIGITAL_TWIN_ENCRYPTION_KEY": Self.ambiguousKey]
        let fixtures = try JSONDecoder().decode([Fixture].self, from: Data(try await Python.run(["legacy"], environment: environment).utf8))
        let other = Base64.encode([UInt8](repeating: 0x33, count: 32), alphabet: .url)
        let fixture = try await CipherFixture.make(legacyKeys: LegacyKeys(masterKey: other, encryptionKey: other))
        for item in fixtures {
            #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(item.input, context: "c") }
        }
        #expect(fixture.failures.all.count == fixtures.count)
        #expect(fixture.failures.all.allSatisfy { $0.reason == .authenticationFailed })
    }

    @Test func pythonOpensAWardenEnvelopeAsDocumented() async throws {
        let keyBytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let key = AESGCMContext(key: SymmetricKey(data: keyBytes))
        let plaintext = "Zoë's phone: +44 20 7946 0958"
        let envelope = FieldEnvelope.seal(Data(plaintext.utf8), key: key, keyVersion: 70_000, context: "users/phone/9".utf8)
        let opened = try await Python.run(["open-envelope", keyBytes.hex, "users/phone/9", envelope.text])
        #expect(opened == Array(plaintext.utf8).hex)
    }

    @Test func anEnvelopeBuiltByPythonOpensInWarden() async throws {
        let keyBytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let nonce = (0..<12).map { _ in UInt8.random(in: 0...255) }
        let text = try await Python.run(["seal-envelope", keyBytes.hex, "orders/card/5", "3", nonce.hex, "4111 1111 1111 1111"])
        let envelope = try FieldEnvelope(text: text)
        #expect(envelope.keyVersion == 3)
        let key = AESGCMContext(key: SymmetricKey(data: keyBytes))
        #expect(envelope.open(key: key, context: "orders/card/5".utf8) == Data("4111 1111 1111 1111".utf8))
        #expect(envelope.open(key: key, context: "orders/card/6".utf8) == nil)
    }

    @Test func theDocumentedVectorMatchesPython() async throws {
        let text = try await Python.run([
            "seal-envelope", String(repeating: "00", count: 31) + "01", "users/email/42", "1",
            String(repeating: "00", count: 12), "ada@example.com",
        ])
        #expect(text == FormatsDocument.vectorText)
    }
}

/// A small deterministic generator (SplitMix64), so the decoder comparison covers the same strings on
/// every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
