import Crypto
import Foundation
import Testing
import WardenCore
import WardenMFA

/// RFC 4226 and RFC 6238 vectors, the HMAC cross-check, windows and malformed codes.
struct OTPTests {
    static let seed20 = Array("12345678901234567890".utf8)
    static let seed32 = Array("12345678901234567890123456789012".utf8)
    static let seed64 = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)

    @Test func rfc4226AppendixD() throws {
        let hotp = try HOTP(secret: Self.seed20)
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        #expect((0..<10).map { hotp.code(counter: UInt64($0)) } == expected)
    }

    @Test(arguments: [
        (59.0, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ])
    func rfc6238AppendixB(_ vector: (Double, String, String, String)) throws {
        let time = Date(timeIntervalSince1970: vector.0)
        #expect(try TOTP(secret: Self.seed20, algorithm: .sha1, digits: 8).code(at: time) == vector.1)
        #expect(try TOTP(secret: Self.seed32, algorithm: .sha256, digits: 8).code(at: time) == vector.2)
        #expect(try TOTP(secret: Self.seed64, algorithm: .sha512, digits: 8).code(at: time) == vector.3)
    }

    /// The prepared-state HMAC equals swift-crypto's HMAC for keys shorter than, equal to and longer than
    /// the block size.
    @Test(arguments: OTPAlgorithm.allCases)
    func preparedHMACMatchesSwiftCrypto(_ algorithm: OTPAlgorithm) throws {
        for length in [1, 10, 20, 32, 63, 64, 65, 127, 128, 129, 300] {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let hotp = try HOTP(secret: key, algorithm: algorithm, digits: 8)
            for counter in [UInt64(0), 1, 255, 1 << 32, .max] {
                var message = counter.bigEndian
                let data = withUnsafeBytes(of: &message) { Data($0) }
                let mac: [UInt8] =
                    switch algorithm {
                    case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: SymmetricKey(data: key)))
                    case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
                    case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: SymmetricKey(data: key)))
                    }
                let offset = Int(mac.last! & 0x0F)
                let value = (UInt32(mac[offset] & 0x7F) << 24 | UInt32(mac[offset + 1]) << 16 | UInt32(mac[offset + 2]) << 8 | UInt32(mac[offset + 3])) % 100_000_000
                #expect(hotp.value(counter: counter) == value, "key \(length) counter \(counter)")
            }
        }
    }

    @Test func oneStepEitherSideIsAcceptedTwoAreNot() throws {
        let totp = try TOTP(secret: Self.seed20)
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = totp.step(at: now)
        for offset in -1...1 { #expect(totp.match(totp.code(step: step + Int64(offset)), at: now) == step + Int64(offset)) }
        for offset in [-3, -2, 2, 3] {
            let code = totp.code(step: step + Int64(offset))
            // A code of a far step might equal a near step's by chance (1 in 10^6); the vectors here do not.
            if (-1...1).allSatisfy({ totp.code(step: step + Int64($0)) != code }) { #expect(totp.match(code, at: now) == nil) }
        }
        // A wider window is a setting.
        #expect(totp.match(totp.code(step: step - 2), at: now, window: 2) == step - 2)
        // Steps already used are refused.
        #expect(totp.match(totp.code(step: step), at: now, after: step) == nil)
        #expect(totp.match(totp.code(step: step - 1), at: now, after: step) == nil)
        #expect(totp.match(totp.code(step: step + 1), at: now, after: step) == step + 1)
    }

    @Test func malformedCodesNeverMatch() throws {
        let totp = try TOTP(secret: Self.seed20)
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let code = totp.code(at: now)
        for bad in [
            "", String(code.dropLast()), code + "0", " " + code, code + " ", code.replacingOccurrences(of: code.prefix(1), with: "a"),
            "١٢٣٤٥٦", "-12345", "+12345", "123 456", "000000\u{0}",
        ] where bad != code {
            #expect(totp.match(bad, at: now) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func parametersAreChecked() {
        #expect(throws: MFAError.self) { try HOTP(secret: Self.seed20, digits: 5) }
        #expect(throws: MFAError.self) { try HOTP(secret: Self.seed20, digits: 9) }
        #expect(throws: MFAError.self) { try HOTP(secret: [], digits: 6) }
        #expect(throws: MFAError.self) { try TOTP(secret: Self.seed20, period: 0) }
    }

    @Test func rfc4648Base32() {
        let vectors = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
            #expect(Base32.decode(encoded.lowercased()) == Array(plain.utf8))
        }
        #expect(Base32.decode("MZXW6===") == Array("foo".utf8))
        #expect(Base32.decode("MZXW 6YTB-OI") == Array("foobar".utf8))
        for bad in ["M", "MZX", "MZXW6Y", "MZ0Q", "MZ1Q", "MZ8Q", "MZXW6=Y", "MZXR", "MZXW6==", "MZ!Q"] {
            #expect(Base32.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func otpauthURIsEscapeTheLabel() {
        let uri = OTPAuthURI.totp(secret: Self.seed20, issuer: "Acme & Co", account: "ada@example.com", algorithm: .sha256, digits: 8, period: 30)
        #expect(uri == "otpauth://totp/Acme%20%26%20Co:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20%26%20Co&algorithm=SHA256&digits=8&period=30")
    }
}
