import Foundation
import Testing
import WardenCore

@_spi(LegacyWriters) @testable import WardenCrypto

/// `openUpgrading`: every format opens, and only values that are not current come back sealed anew.
struct UpgradeTests {
    static let master = Base64.encode([UInt8](repeating: 0x11, count: 32), alphabet: .url)
    static let encryption = Base64.encode((0..<32).map { UInt8($0) }, alphabet: .url)
    static let version = "v_20250829_120000_0a1b2c3d"
    static let context = "profiles/email/7"

    func fixture() async throws -> CipherFixture {
        try await CipherFixture.make(legacyKeys: LegacyKeys(masterKey: Self.master, encryptionKey: Self.encryption))
    }

    /// Text inputs in every format that is not current, with the source each should report.
    func staleInputs(_ fixture: CipherFixture) async throws -> [(input: String, source: OpenedField.Source)] {
        let keys = try LegacyKeys(masterKey: Self.master, encryptionKey: Self.encryption)
        let now = UInt64(fixture.clock.now().timeIntervalSince1970)
        let iv = [UInt8](repeating: 5, count: 16)
        let json = String(decoding: try LegacyWriters.jsonEnvelope(Data("ada@example.com".utf8), version: Self.version, keys: keys), as: UTF8.self)
        let raw = try LegacyWriters.fernetToken(Data("ada@example.com".utf8), keys: keys, timestamp: now, iv: iv)
        let twin = try LegacyWriters.twinFernetToken("ada@example.com", field: "email", keys: keys, timestamp: now, iv: iv)
        let old = try await fixture.cipher.seal(Data("ada@example.com".utf8), context: Self.context).text
        try await fixture.cipher.rotate()
        return [
            (json, .legacyJSON(version: Self.version)), (raw, .legacyFernet), (twin, .legacyTwinFernet),
            (old, .envelope(keyVersion: 1)),
        ]
    }

    @Test func staleTextValuesComeBackAsTextEnvelopesUnderThePrimary() async throws {
        let fixture = try await fixture()
        for (input, source) in try await staleInputs(fixture) {
            let field = try await fixture.cipher.openUpgrading(input, context: Self.context)
            #expect(field.plaintext == Data("ada@example.com".utf8), "\(source)")
            #expect(field.source == source)
            let upgraded = try #require(field.upgraded, "\(source) was not upgraded")
            #expect(upgraded.hasPrefix("wd1:2:"), "\(upgraded)")
            #expect(field.envelope?.text == upgraded && field.envelope?.keyVersion == 2)
            // The upgrade is current and bound to the context: it opens there, with nothing more to do…
            let again = try await fixture.cipher.openUpgrading(upgraded, context: Self.context)
            #expect(again.plaintext == field.plaintext && again.source == .envelope(keyVersion: 2))
            #expect(again.upgraded == nil && again.envelope == nil)
            // …and nowhere else.
            await #expect(throws: WardenCryptoError.decryptionFailed) {
                try await fixture.cipher.openUpgrading(upgraded, context: "profiles/email/8")
            }
        }
    }

    @Test func staleBinaryValuesComeBackAsBinaryEnvelopes() async throws {
        let fixture = try await fixture()
        let stale = try await staleInputs(fixture)
        var inputs = stale.map { (Data($0.input.utf8), $0.source) }
        // A binary envelope under the old version, as a BLOB column holds it.
        inputs.append((try FieldEnvelope(text: stale[3].input).binary, .envelope(keyVersion: 1)))
        for (input, source) in inputs {
            let field = try await fixture.cipher.openUpgrading(input, context: Self.context)
            #expect(field.source == source)
            let upgraded = try #require(field.upgraded, "\(source) was not upgraded")
            #expect(upgraded == field.envelope?.binary)
            #expect(FieldEnvelope.parseHeader(upgraded) != nil, "not a binary envelope")
            let opened = try fixture.cipher.open(upgraded, context: Self.context)
            #expect(opened.plaintext == Data("ada@example.com".utf8) && opened.source == .envelope(keyVersion: 2))
            #expect(!opened.needsRewrap)
        }
    }

    @Test func aCurrentValueIsNotSealedAgain() async throws {
        let fixture = try await fixture()
        let sealed = try await fixture.cipher.seal(Data("x".utf8), context: Self.context)
        let before = fixture.cipher.sealCount(version: 1)
        let text = try await fixture.cipher.openUpgrading(sealed.text, context: Self.context)
        let binary = try await fixture.cipher.openUpgrading(sealed.binary, context: Self.context)
        #expect(text.upgraded == nil && binary.upgraded == nil)
        #expect(text.source == .envelope(keyVersion: 1) && binary.plaintext == Data("x".utf8))
        #expect(fixture.cipher.sealCount(version: 1) == before)
    }

    @Test func aWrongContextIsRefusedAndNothingIsSealed() async throws {
        let fixture = try await fixture()
        let old = try await fixture.cipher.seal(Data("x".utf8), context: Self.context)
        try await fixture.cipher.rotate()
        await #expect(throws: WardenCryptoError.decryptionFailed) {
            try await fixture.cipher.openUpgrading(old.text, context: "profiles/email/8")
        }
        await #expect(throws: WardenCryptoError.decryptionFailed) {
            try await fixture.cipher.openUpgrading(old.binary, context: "profiles/email/8")
        }
        #expect(fixture.cipher.sealCount(version: 2) == 0)
        #expect(fixture.failures.all.map(\.reason) == [.authenticationFailed, .authenticationFailed])
    }

    /// Another node rotated and upgraded a value: this node re-reads the keyring once and opens it.
    @Test func aVersionFromAnotherNodeIsPickedUp() async throws {
        let first = try await fixture()
        let second = try await CipherFixture.make(store: first.store, clock: first.clock)
        try await first.cipher.rotate()
        let sealed = try await first.cipher.seal(Data("x".utf8), context: Self.context)
        #expect(second.cipher.keyring.primaryVersion == 1)
        let field = try await second.cipher.openUpgrading(sealed.text, context: Self.context)
        #expect(field.source == .envelope(keyVersion: 2) && field.upgraded == nil)
    }

    @Test func legacyInputWithoutLegacyKeysIsAClearError() async throws {
        let fixture = try await CipherFixture.make()
        let keys = try LegacyKeys(encryptionKey: Self.encryption)
        let token = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: 1_800_000_000, iv: [UInt8](repeating: 0, count: 16))
        let error = try await #require(throws: WardenCryptoError.self) { try await fixture.cipher.openUpgrading(token, context: "c") }
        #expect(error.code == .legacyKeyMissing)
    }
}
