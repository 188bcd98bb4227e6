import Crypto
import Foundation
import Testing

@testable import WardenCrypto

/// Project Wycheproof `aes_gcm_test.json`, the group Warden's envelope uses: 256-bit key, 96-bit IV,
/// 128-bit tag. Run against both AES-GCM paths: the reused BoringSSL context that seals and opens
/// envelopes, and swift-crypto's `AES.GCM` that wraps data keys and opens legacy envelopes.
struct WycheproofAESGCMTests {
    struct File: Decodable {
        let testGroups: [Group]
    }

    struct Group: Decodable {
        let keySize: Int
        let ivSize: Int
        let tagSize: Int
        let tests: [Case]
    }

    struct Case: Decodable, CustomTestStringConvertible {
        let tcId: Int
        let comment: String
        let key: String
        let iv: String
        let aad: String
        let msg: String
        let ct: String
        let tag: String
        let result: String
        var testDescription: String { "tcId \(tcId) \(comment) (\(result))" }
    }

    static func cases() throws -> [Case] {
        let file = try loadVectors("wycheproof/aes_gcm_test.json", as: File.self)
        return file.testGroups.filter { $0.keySize == 256 && $0.ivSize == 96 && $0.tagSize == 128 }.flatMap(\.tests)
    }

    @Test func theGroupIsPresent() throws {
        #expect(try Self.cases().count == 66)
    }

    @Test(arguments: try cases())
    func contextPath(_ vector: Case) throws {
        let context = AESGCMContext(key: SymmetricKey(data: [UInt8](hex: vector.key)))
        let iv = [UInt8](hex: vector.iv)
        let aad = [UInt8](hex: vector.aad)
        let msg = [UInt8](hex: vector.msg)
        let sealed = [UInt8](hex: vector.ct) + [UInt8](hex: vector.tag)
        var opened = [UInt8](repeating: 0, count: sealed.count - 16)
        let ok = sealed.withUnsafeBytes { sealedBytes in
            iv.withUnsafeBytes { ivBytes in
                aad.withUnsafeBytes { aadBytes in
                    opened.withUnsafeMutableBytes {
                        context.open(sealed: sealedBytes, nonce: ivBytes, associatedData: aadBytes, into: $0)
                    }
                }
            }
        }
        if vector.result == "valid" {
            #expect(ok)
            #expect(opened == msg)
            var output = [UInt8](repeating: 0, count: msg.count + 16)
            let sealedOK = msg.withUnsafeBytes { msgBytes in
                iv.withUnsafeBytes { ivBytes in
                    aad.withUnsafeBytes { aadBytes in
                        output.withUnsafeMutableBytes {
                            context.seal(plaintext: msgBytes, nonce: ivBytes, associatedData: aadBytes, into: $0)
                        }
                    }
                }
            }
            #expect(sealedOK)
            #expect(output == sealed)
        } else {
            #expect(!ok)
        }
    }

    @Test(arguments: try cases())
    func swiftCryptoPath(_ vector: Case) throws {
        let key = SymmetricKey(data: [UInt8](hex: vector.key))
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: [UInt8](hex: vector.iv)), ciphertext: [UInt8](hex: vector.ct), tag: [UInt8](hex: vector.tag))
        let opened = try? AES.GCM.open(box, using: key, authenticating: [UInt8](hex: vector.aad))
        if vector.result == "valid" {
            #expect(opened.map(Array.init) == [UInt8](hex: vector.msg))
        } else {
            #expect(opened == nil)
        }
    }
}
