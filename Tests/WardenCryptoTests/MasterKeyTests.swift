import Crypto
import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// Loading the master key: environment, key file, generation, and refusals.
struct MasterKeyTests {
    let validKey = Base64.encode([UInt8](repeating: 7, count: 32))

    @Test func fromTheEnvironment() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (key, origin) = try MasterKey.resolve(
            environment: ["WARDEN_MASTER_KEY": validKey], dataDirectory: directory.path, keyringExists: false, allowGenerate: true)
        #expect(origin == .environment)
        #expect(key.checkValue == (try MasterKey(bytes: [UInt8](repeating: 7, count: 32))).checkValue)
        // URL-safe and unpadded forms of the same bytes are accepted too.
        let urlSafe = Base64.encode([UInt8](repeating: 0xFB, count: 32), alphabet: .url, padded: false)
        #expect(throws: Never.self) { try MasterKey(base64: urlSafe) }
        #expect(!SecureFile.exists(directory.path + "/master.key"))
    }

    @Test(arguments: [16, 31, 33, 64, 0])
    func aKeyOfTheWrongLengthIsRefused(_ length: Int) throws {
        let text = Base64.encode([UInt8](repeating: 1, count: length))
        let error = try #require(throws: WardenCryptoError.self) { try MasterKey(base64: text) }
        #expect(error.code == .invalidMasterKey)
        #expect(!error.message.contains(text) || text.isEmpty)
    }

    @Test func aKeyThatIsNotBase64IsRefusedWithoutEchoingIt() throws {
        let error = try #require(throws: WardenCryptoError.self) { try MasterKey(base64: "not a key!!secret-ish") }
        #expect(error.code == .invalidMasterKey)
        #expect(!error.message.contains("secret-ish"))
    }

    @Test func bothVariablesSetIsAmbiguous() throws {
        let error = try #require(throws: WardenCryptoError.self) {
            try MasterKey.resolve(
                environment: ["WARDEN_MASTER_KEY": validKey, "WARDEN_MASTER_KEY_FILE": "/nonexistent"],
                dataDirectory: "/nonexistent", keyringExists: false, allowGenerate: true)
        }
        #expect(error.code == .invalidMasterKey)
    }

    @Test func aKeyFileMustBeOwnerOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.path + "/key"
        try SecureFile.createExclusively(path, bytes: Array((validKey + "\n").utf8), mode: 0o600)
        let (_, origin) = try MasterKey.resolve(
            environment: ["WARDEN_MASTER_KEY_FILE": path], dataDirectory: directory.path, keyringExists: true, allowGenerate: false)
        #expect(origin == .file(path: path))
        for mode in [0o640, 0o604, 0o660, 0o644, 0o602] {
            chmod(path, mode_t(mode))
            let error = try #require(throws: WardenCryptoError.self) {
                try MasterKey.resolve(
                    environment: ["WARDEN_MASTER_KEY_FILE": path], dataDirectory: directory.path, keyringExists: true, allowGenerate: false)
            }
            #expect(error.message.contains("chmod 600"))
        }
    }

    @Test func aMissingKeyFileIsAnError() throws {
        let error = try #require(throws: WardenCryptoError.self) {
            try MasterKey.resolve(
                environment: ["WARDEN_MASTER_KEY_FILE": "/nonexistent/key"], dataDirectory: "/tmp", keyringExists: false, allowGenerate: true)
        }
        #expect(error.code == .masterKeyMissing)
    }

    @Test func theEmbeddedDefaultGeneratesAnOwnerOnlyKeyOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let dataDirectory = directory.path + "/data"
        let (first, origin) = try MasterKey.resolve(environment: [:], dataDirectory: dataDirectory, keyringExists: false, allowGenerate: true)
        #expect(origin == .generated(path: dataDirectory + "/master.key"))
        #expect(try SecureFile.permissions(dataDirectory + "/master.key") == 0o600)
        #expect(try SecureFile.permissions(dataDirectory) == 0o700)
        let (second, secondOrigin) = try MasterKey.resolve(environment: [:], dataDirectory: dataDirectory, keyringExists: true, allowGenerate: true)
        #expect(secondOrigin == .dataDirectory(path: dataDirectory + "/master.key"))
        #expect(first.checkValue == second.checkValue)
    }

    @Test func noKeyIsGeneratedBesideAnExistingKeyring() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let error = try #require(throws: WardenCryptoError.self) {
            try MasterKey.resolve(environment: [:], dataDirectory: directory.path, keyringExists: true, allowGenerate: true)
        }
        #expect(error.code == .masterKeyMissing)
        #expect(!SecureFile.exists(directory.path + "/master.key"))
    }

    @Test func productionRefusesToGenerate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let error = try #require(throws: WardenCryptoError.self) {
            try MasterKey.resolve(environment: [:], dataDirectory: directory.path, keyringExists: false, allowGenerate: false)
        }
        #expect(error.code == .masterKeyMissing)
    }

    @Test func derivedKeysAreDistinct() {
        let key = testMasterKey()
        let wrapping = key.wrappingKey.withUnsafeBytes { Array($0) }
        let integrity = key.integrityKey.withUnsafeBytes { Array($0) }
        #expect(wrapping != integrity)
        #expect(wrapping != Array(key.checkValue))
        #expect(wrapping != [UInt8](repeating: 0x42, count: 32))
    }
}
