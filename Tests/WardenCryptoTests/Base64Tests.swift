import Foundation
import Testing
import WardenCore

/// RFC 4648 §10 vectors, both alphabets, and the canonical-form rules.
struct Base64Tests {
    static let rfc4648: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: 0..<rfc4648.count)
    func rfc4648Vectors(_ index: Int) {
        let (plain, encoded) = Self.rfc4648[index]
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
        let unpadded = encoded.replacingOccurrences(of: "=", with: "")
        #expect(Base64.encode(Array(plain.utf8), alphabet: .url, padded: false) == unpadded)
        #expect(Base64.decode(unpadded, alphabet: .url, padding: .forbidden) == Array(plain.utf8))
        #expect(Base64.decode(unpadded, padding: .optional) == Array(plain.utf8))
        // After a prefix (an envelope's `wd1:7:`), padding still counts from the encoding's start.
        for prefix in ["", "p", "wd1:7:", "a longer prefix, past small strings"] {
            Array(plain.utf8).withUnsafeBytes { bytes in
                #expect(Base64.encode(bytes, after: prefix) == prefix + encoded)
                #expect(Base64.encode(bytes, alphabet: .url, padded: false, after: prefix) == prefix + unpadded)
            }
        }
    }

    @Test func alphabetsDiffer() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64.encode(bytes, alphabet: .url) == "-_-_")
        #expect(Base64.decode("-_-_") == nil)
        #expect(Base64.decode("+/+/", alphabet: .url) == nil)
    }

    @Test(arguments: [
        "Zg=", "Zg", "Zg===", "Z===", "Zh==", "Zm9=", "Zm8", "Zm 8=", "Zm8=\n", "=Zm8", "Zm8=Zm8=", "Z", "Zm9v\u{0}", "Zm9vé",
    ])
    func nonCanonicalInputIsRejected(_ text: String) {
        #expect(Base64.decode(text, padding: .required) == nil)
    }

    @Test func paddingRules() {
        #expect(Base64.decode("Zg==", padding: .forbidden) == nil)
        #expect(Base64.decode("Zg", padding: .required) == nil)
        #expect(Base64.decode("Zg", padding: .optional) == [0x66])
        #expect(Base64.decode("Zg=", padding: .optional) == nil)
    }

    @Test func roundTripsEveryLengthAndByte() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for alphabet in [Base64.Alphabet.standard, .url] {
                #expect(Base64.decode(Base64.encode(bytes, alphabet: alphabet), alphabet: alphabet) == bytes)
                #expect(Base64.decode(Base64.encode(bytes, alphabet: alphabet, padded: false), alphabet: alphabet, padding: .forbidden) == bytes)
            }
        }
    }
}
