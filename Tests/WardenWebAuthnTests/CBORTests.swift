import Testing
import WardenWebAuthn

/// One decoding example: a name, the encoding in hex, the value it must decode to.
struct CBORVector: CustomTestStringConvertible, Sendable {
    let name: String
    let hex: String
    let value: CBORValue
    var testDescription: String { name }
}

private func text(_ s: String) -> CBORValue { .text(s) }
private func map(_ pairs: [(CBORValue, CBORValue)]) -> CBORValue { CBOREncoder.map(pairs) }

/// RFC 8949 Appendix A, the examples in WebAuthn's scope (definite lengths; bignums and dates read as
/// tagged items).
let rfc8949AppendixA: [CBORVector] = [
    CBORVector(name: "0", hex: "00", value: .unsigned(0)),
    CBORVector(name: "1", hex: "01", value: .unsigned(1)),
    CBORVector(name: "10", hex: "0a", value: .unsigned(10)),
    CBORVector(name: "23", hex: "17", value: .unsigned(23)),
    CBORVector(name: "24", hex: "1818", value: .unsigned(24)),
    CBORVector(name: "25", hex: "1819", value: .unsigned(25)),
    CBORVector(name: "100", hex: "1864", value: .unsigned(100)),
    CBORVector(name: "1000", hex: "1903e8", value: .unsigned(1000)),
    CBORVector(name: "1000000", hex: "1a000f4240", value: .unsigned(1_000_000)),
    CBORVector(name: "1000000000000", hex: "1b000000e8d4a51000", value: .unsigned(1_000_000_000_000)),
    CBORVector(name: "18446744073709551615", hex: "1bffffffffffffffff", value: .unsigned(.max)),
    CBORVector(name: "18446744073709551616 (bignum)", hex: "c249010000000000000000", value: .tagged(2, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0]))),
    CBORVector(name: "-18446744073709551616", hex: "3bffffffffffffffff", value: .negative(.max)),
    CBORVector(name: "-18446744073709551617 (bignum)", hex: "c349010000000000000000", value: .tagged(3, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0]))),
    CBORVector(name: "-1", hex: "20", value: .negative(0)),
    CBORVector(name: "-10", hex: "29", value: .negative(9)),
    CBORVector(name: "-100", hex: "3863", value: .negative(99)),
    CBORVector(name: "-1000", hex: "3903e7", value: .negative(999)),
    CBORVector(name: "0.0", hex: "f90000", value: .float(0.0)),
    CBORVector(name: "-0.0", hex: "f98000", value: .float(-0.0)),
    CBORVector(name: "1.0", hex: "f93c00", value: .float(1.0)),
    CBORVector(name: "1.1", hex: "fb3ff199999999999a", value: .float(1.1)),
    CBORVector(name: "1.5", hex: "f93e00", value: .float(1.5)),
    CBORVector(name: "65504.0", hex: "f97bff", value: .float(65504.0)),
    CBORVector(name: "100000.0", hex: "fa47c35000", value: .float(100000.0)),
    CBORVector(name: "3.4028234663852886e+38", hex: "fa7f7fffff", value: .float(3.4028234663852886e+38)),
    CBORVector(name: "1.0e+300", hex: "fb7e37e43c8800759c", value: .float(1.0e+300)),
    CBORVector(name: "5.960464477539063e-8", hex: "f90001", value: .float(5.960464477539063e-8)),
    CBORVector(name: "0.00006103515625", hex: "f90400", value: .float(0.00006103515625)),
    CBORVector(name: "-4.0", hex: "f9c400", value: .float(-4.0)),
    CBORVector(name: "-4.1", hex: "fbc010666666666666", value: .float(-4.1)),
    CBORVector(name: "Infinity (half)", hex: "f97c00", value: .float(.infinity)),
    CBORVector(name: "-Infinity (half)", hex: "f9fc00", value: .float(-.infinity)),
    CBORVector(name: "Infinity (single)", hex: "fa7f800000", value: .float(.infinity)),
    CBORVector(name: "-Infinity (single)", hex: "faff800000", value: .float(-.infinity)),
    CBORVector(name: "Infinity (double)", hex: "fb7ff0000000000000", value: .float(.infinity)),
    CBORVector(name: "-Infinity (double)", hex: "fbfff0000000000000", value: .float(-.infinity)),
    CBORVector(name: "false", hex: "f4", value: .bool(false)),
    CBORVector(name: "true", hex: "f5", value: .bool(true)),
    CBORVector(name: "null", hex: "f6", value: .null),
    CBORVector(name: "undefined", hex: "f7", value: .undefined),
    CBORVector(name: "0(\"2013-03-21T20:04:00Z\")", hex: "c074323031332d30332d32315432303a30343a30305a", value: .tagged(0, text("2013-03-21T20:04:00Z"))),
    CBORVector(name: "1(1363896240)", hex: "c11a514b67b0", value: .tagged(1, .unsigned(1_363_896_240))),
    CBORVector(name: "1(1363896240.5)", hex: "c1fb41d452d9ec200000", value: .tagged(1, .float(1_363_896_240.5))),
    CBORVector(name: "23(h'01020304')", hex: "d74401020304", value: .tagged(23, .bytes([1, 2, 3, 4]))),
    CBORVector(name: "24(h'6449455446')", hex: "d818456449455446", value: .tagged(24, .bytes([0x64, 0x49, 0x45, 0x54, 0x46]))),
    CBORVector(name: "32(\"http://www.example.com\")", hex: "d82076687474703a2f2f7777772e6578616d706c652e636f6d", value: .tagged(32, text("http://www.example.com"))),
    CBORVector(name: "h''", hex: "40", value: .bytes([])),
    CBORVector(name: "h'01020304'", hex: "4401020304", value: .bytes([1, 2, 3, 4])),
    CBORVector(name: "\"\"", hex: "60", value: text("")),
    CBORVector(name: "\"a\"", hex: "6161", value: text("a")),
    CBORVector(name: "\"IETF\"", hex: "6449455446", value: text("IETF")),
    CBORVector(name: "\"\\\"\\\\\"", hex: "62225c", value: text("\"\\")),
    CBORVector(name: "\"\\u00fc\"", hex: "62c3bc", value: text("\u{00fc}")),
    CBORVector(name: "\"\\u6c34\"", hex: "63e6b0b4", value: text("\u{6c34}")),
    CBORVector(name: "\"\\ud800\\udd51\"", hex: "64f0908591", value: text("\u{10151}")),
    CBORVector(name: "[]", hex: "80", value: .array([])),
    CBORVector(name: "[1, 2, 3]", hex: "83010203", value: .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
    CBORVector(
        name: "[1, [2, 3], [4, 5]]", hex: "8301820203820405",
        value: .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])),
    CBORVector(
        name: "[1, 2, ..., 25]", hex: "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        value: .array((1...25).map { .unsigned(UInt64($0)) })),
    CBORVector(name: "{}", hex: "a0", value: .map([])),
    CBORVector(name: "{1: 2, 3: 4}", hex: "a201020304", value: map([(.unsigned(1), .unsigned(2)), (.unsigned(3), .unsigned(4))])),
    CBORVector(
        name: "{\"a\": 1, \"b\": [2, 3]}", hex: "a26161016162820203",
        value: map([(text("a"), .unsigned(1)), (text("b"), .array([.unsigned(2), .unsigned(3)]))])),
    CBORVector(name: "[\"a\", {\"b\": \"c\"}]", hex: "826161a161626163", value: .array([text("a"), map([(text("b"), text("c"))])])),
    CBORVector(
        name: "{\"a\": \"A\", ..., \"e\": \"E\"}", hex: "a56161614161626142616361436164614461656145",
        value: map(["a", "b", "c", "d", "e"].map { (text($0), text($0.uppercased())) })),
]

struct CBORTests {
    @Test(arguments: rfc8949AppendixA)
    func decodesRFC8949AppendixA(_ vector: CBORVector) throws {
        let value = try CBORDecoder.decode(hex(vector.hex))
        #expect(value == vector.value)
        // Every non-float example is canonical: the test encoder writes it back byte for byte.
        if !vector.hex.hasPrefix("f9"), !vector.hex.hasPrefix("fa"), !vector.hex.contains("fb") {
            #expect(CBOREncoder.encode(value) == hex(vector.hex))
        }
    }

    @Test(arguments: ["f97e00", "fa7fc00000", "fb7ff8000000000000"])
    func decodesNaNInEveryWidth(_ encoding: String) throws {
        guard case .float(let value) = try CBORDecoder.decode(hex(encoding)) else {
            Issue.record("not a float")
            return
        }
        #expect(value.isNaN)
    }

    @Test func acceptsNonMinimalIntegers() throws {
        #expect(try CBORDecoder.decode(hex("1b0000000000000001")) == .unsigned(1))
        #expect(try CBORDecoder.decode(hex("5800")) == .bytes([]))
    }

    /// Each refusal: a name, the input, the error code.
    @Test(
        arguments: [
            ("indefinite-length byte string", "5f42010243030405ff", WebAuthnError.Code.malformed),
            ("indefinite-length array", "9f018202039f0405ffff", .malformed),
            ("indefinite-length map", "bf61610161629f0203ffff", .malformed),
            ("indefinite-length text", "7f657374726561646d696e67ff", .malformed),
            ("a lone break", "ff", .malformed),
            ("reserved additional information 28", "1c", .malformed),
            ("reserved additional information 29", "3d", .malformed),
            ("reserved additional information 30", "5e", .malformed),
            ("simple value 16", "f0", .malformed),
            ("simple value 255", "f8ff", .malformed),
            ("truncated head", "19", .malformed),
            ("truncated integer", "1a0001", .malformed),
            ("truncated byte string", "44010203", .malformed),
            ("truncated array", "830102", .malformed),
            ("truncated map", "a2010203", .malformed),
            ("trailing bytes", "0000", .malformed),
            ("empty input", "", .malformed),
            ("byte string of length 2^63", "5b8000000000000000", .tooLarge),
            ("text of length 2^64-1", "7bffffffffffffffff", .tooLarge),
            ("array of 2^63 items", "9b8000000000000000", .tooLarge),
            ("map of 2^32-1 entries", "baffffffff", .tooLarge),
            ("byte string longer than the input", "59ffff00", .malformed),
            ("array longer than the input", "99010000", .malformed),
            ("duplicate map key", "a201020103", .malformed),
            ("duplicate text map key", "a2616101616102", .malformed),
            ("invalid UTF-8", "62c328", .malformed),
            ("UTF-8 surrogate", "63eda080", .malformed),
            ("overlong UTF-8", "62c0af", .malformed),
        ] as [(String, String, WebAuthnError.Code)])
    func refuses(_ name: String, _ encoding: String, _ code: WebAuthnError.Code) {
        let error = #expect(throws: WebAuthnError.self, "\(name)") { try CBORDecoder.decode(hex(encoding)) }
        #expect(error?.code == code, "\(name)")
    }

    @Test func acceptsSixteenNestedArraysAndRefusesSeventeen() throws {
        let sixteen = [UInt8](repeating: 0x81, count: 15) + [0x80]
        #expect(throws: Never.self) { try CBORDecoder.decode(sixteen) }
        let seventeen = [UInt8](repeating: 0x81, count: 16) + [0x80]
        #expect((#expect(throws: WebAuthnError.self) { try CBORDecoder.decode(seventeen) })?.code == .tooLarge)
        // Maps and tags count as nesting too: {0: {0: ... {}}}, 16 deep and 17 deep.
        let maps = { (depth: Int) in Array([[UInt8]](repeating: [0xA1, 0x00], count: depth - 1).joined()) + [0xA0] }
        #expect(throws: Never.self) { try CBORDecoder.decode(maps(16)) }
        #expect((#expect(throws: WebAuthnError.self) { try CBORDecoder.decode(maps(17)) })?.code == .tooLarge)
        #expect(throws: Never.self) { try CBORDecoder.decode([UInt8](repeating: 0xC1, count: 16) + [0x00]) }
        #expect((#expect(throws: WebAuthnError.self) { try CBORDecoder.decode([UInt8](repeating: 0xC1, count: 17) + [0x00]) })?.code == .tooLarge)
    }

    @Test func refusesDeepNestingWithoutRecursingFar() {
        // 60,000 nested arrays fail at depth 17, long before the stack could overflow.
        let deep = [UInt8](repeating: 0x81, count: 60_000)
        #expect(throws: WebAuthnError.self) { try CBORDecoder.decode(deep) }
    }

    @Test func refusesInputOverTheLimit() {
        let big = CBOREncoder.head(2, 70_000) + [UInt8](repeating: 0, count: 70_000)
        let error = #expect(throws: WebAuthnError.self) { try CBORDecoder.decode(big) }
        #expect(error?.code == .tooLarge)
        // A smaller limit applies to each string.
        let limits = CBORDecoder.Limits(maxLength: 8)
        #expect(throws: WebAuthnError.self) { try CBORDecoder.decode(CBOREncoder.head(2, 9) + [UInt8](repeating: 0, count: 9), limits: limits) }
        #expect(throws: Never.self) { try CBORDecoder.decode(CBOREncoder.head(2, 8) + [UInt8](repeating: 0, count: 8), limits: limits) }
    }

    @Test func decodePrefixSaysWhereTheItemEnds() throws {
        let bytes = hex("a201020304" + "a0ff")
        let (value, consumed) = try CBORDecoder.decodePrefix(bytes[...])
        #expect(consumed == 5)
        #expect(value[int: 3] == .unsigned(4))
        // A slice that does not start at zero.
        let (next, nextConsumed) = try CBORDecoder.decodePrefix(bytes[5...])
        #expect(next == .map([]) && nextConsumed == 1)
    }

    @Test func errorMessagesNeverEchoInput() {
        let secret = "secret-token-value"
        let encoded = CBOREncoder.encode(.array([.text(secret), .text(secret)])).dropLast()
        let error = #expect(throws: WebAuthnError.self) { try CBORDecoder.decode(Array(encoded)) }
        #expect(error.map { !$0.description.contains(secret) } == true)
    }
}
