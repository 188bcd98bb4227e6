import Foundation
import Testing
import WardenCore

@testable import WardenCrypto

/// The Fernet specification's vectors (fernet/spec): generate, verify, and invalid tokens.
struct FernetSpecTests {
    struct Generate: Decodable, CustomTestStringConvertible {
        let token: String
        let now: String
        let iv: [UInt8]
        let src: String
        let secret: String
        var testDescription: String { "generate \(src)" }
    }

    struct Verify: Decodable, CustomTestStringConvertible {
        let token: String
        let now: String
        let ttl_sec: Double
        let src: String
        let secret: String
        var testDescription: String { "verify \(src)" }
    }

    struct Invalid: Decodable, CustomTestStringConvertible {
        let desc: String
        let token: String
        let now: String
        let ttl_sec: Double
        let secret: String
        var testDescription: String { desc }
    }

    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    static func key(_ secret: String) -> FernetKey {
        FernetKey(bytes: Base64.decode(secret, alphabet: .url)!)!
    }

    @Test(arguments: try loadVectors("fernet/generate.json", as: [Generate].self))
    func generate(_ vector: Generate) throws {
        let token = try Fernet.makeToken(
            Data(vector.src.utf8), key: Self.key(vector.secret), iv: vector.iv,
            timestamp: UInt64(Self.date(vector.now).timeIntervalSince1970))
        #expect(token == vector.token)
    }

    @Test(arguments: try loadVectors("fernet/verify.json", as: [Verify].self))
    func verify(_ vector: Verify) throws {
        let plaintext = try Fernet.open(
            Array(vector.token.utf8), key: Self.key(vector.secret), now: Self.date(vector.now), ttl: vector.ttl_sec)
        #expect(String(decoding: plaintext, as: UTF8.self) == vector.src)
    }

    @Test(arguments: try loadVectors("fernet/invalid.json", as: [Invalid].self))
    func invalid(_ vector: Invalid) throws {
        #expect(throws: Fernet.Failure.self) {
            try Fernet.open(Array(vector.token.utf8), key: Self.key(vector.secret), now: Self.date(vector.now), ttl: vector.ttl_sec)
        }
    }

    @Test func invalidVectorsAreAllPresent() throws {
        #expect(try loadVectors("fernet/invalid.json", as: [Invalid].self).count == 8)
    }
}
