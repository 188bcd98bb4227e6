import Foundation
import NIOCore
import Testing
import WardenSessions
import WardenTestSupport

@testable import WardenHTTP

/// The response writer against two independent JSON implementations: Python's strict `json` module reads
/// what it writes, and gets the same value as from Foundation's serialisation of the same object.
struct JSONWriterTests {
    func written(_ value: Any) -> String {
        var buffer = ByteBuffer()
        JSONWriter.write(value, into: &buffer)
        return String(buffer: buffer)
    }

    /// Python's canonical form (sorted keys, ASCII escapes) of a JSON text; fails on anything invalid.
    func canonical(_ json: String) async throws -> String {
        let script = "import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, ensure_ascii=True))"
        let (status, output, errors) = try await runProcess("/usr/bin/env", ["python3", "-c", script], input: Data(json.utf8))
        #expect(status == 0, "\(String(decoding: errors, as: UTF8.self)) for \(json)")
        return String(decoding: output, as: UTF8.self)
    }

    @Test func stringsAreEscapedExactly() {
        #expect(written("a\"b\\c/d\ne\r\tf\u{8}\u{C}") == #""a\"b\\c/d\ne\r\tf\b\f""#)
        #expect(written("\u{0}\u{1}\u{1F}\u{7F}") == "\"\\u0000\\u0001\\u001f\u{7F}\"")
        #expect(written("é🔑\u{2028}") == "\"é🔑\u{2028}\"")
        #expect(written("") == #""""#)
    }

    @Test func scalarsAndOptionals() {
        #expect(written(true) == "true")
        #expect(written(false) == "false")
        #expect(written(-42) == "-42")
        #expect(written(Int64.max) == "9223372036854775807")
        #expect(written(UInt32(7)) == "7")
        #expect(written(0.5) == "0.5")
        #expect(written(Double.infinity) == "null")
        #expect(written(Double.nan) == "null")
        #expect(written(NSNull()) == "null")
        #expect(written(Optional<String>.none as Any) == "null")
        #expect(written(Optional("x") as Any) == #""x""#)
    }

    @Test func objectsReadBackAsFoundationWritesThem() async throws {
        var controls = ""
        for scalar in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        let object: [String: Any] = [
            "text": "quote \" backslash \\ slash / \(controls) é 🔑",
            "numbers": [0, -1, Int.max, 0.25, 1e-7, 12345.678],
            "flags": [true, false],
            "nothing": NSNull(),
            "nested": ["sessions": [["id": "a", "current": true], ["id": "b", "current": false]] as [[String: Any]]],
            "strings": ["k": "v"] as [String: String],
            "empty": [String: Any](),
            "list": [Any](),
            "key \"with\" escapes\n": 1,
        ]
        let foundation = try JSONSerialization.data(withJSONObject: object)
        #expect(try await canonical(written(object)) == canonical(String(decoding: foundation, as: UTF8.self)))
    }

    /// The session listing writes itself (no dictionary): read back by Python's strict parser, it is the
    /// object the dictionary form would give, with the original system's names beside Warden's.
    @Test func aSessionWritesWhatItsDictionaryWould() async throws {
        var controls = ""
        for scalar in 0..<0x20 { controls.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        let agent = "quote \" backslash \\ \(controls) " + String(repeating: "é🔑", count: 60)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let session = SessionRecord(
            idHash: String(repeating: "ab", count: 32), accountID: UUID(), device: Device(userAgent: agent, address: "2001:db8::1"),
            created: now - 3_600, lastActivity: now - 60, idleTimeout: 1_800, absoluteExpiry: now + 86_400, level: .multiFactor, refreshTokenID: "r")
        for current in [session.idHash, "other"] {
            let isCurrent = current == session.idHash
            let device: [String: Any] = ["user_agent": agent, "address": "2001:db8::1", "fingerprint": session.device.fingerprint]
            let expected: [String: Any] = [
                "id": session.idHash, "created_at": JSONResponse.timestamp(session.created), "last_activity": JSONResponse.timestamp(session.lastActivity),
                "expires_at": JSONResponse.timestamp(session.absoluteExpiry), "authentication_level": "mfa", "device": device, "current": isCurrent,
                "session_id": session.idHash, "is_current": isCurrent,
                "device_info": [
                    "user_agent": String(String.UnicodeScalarView(agent.unicodeScalars.prefix(100))), "ip_address": "2001:db8::1",
                    "device_fingerprint": session.device.fingerprint,
                ] as [String: Any],
            ]
            let foundation = try JSONSerialization.data(withJSONObject: ["sessions": [expected]])
            #expect(try await canonical(written(["sessions": [WardenAPI.session(session, current: current)]])) == canonical(String(decoding: foundation, as: UTF8.self)))
            // The whole body of GET /auth/sessions, as the route writes it.
            for count in [0, 1, 3] {
                var listing = ByteBuffer()
                SessionListingJSON(sessions: Array(repeating: session, count: count), current: current).writeJSON(into: &listing)
                let dictionary = try JSONSerialization.data(withJSONObject: ["sessions": Array(repeating: expected, count: count), "total_sessions": count] as [String: Any])
                #expect(try await canonical(String(buffer: listing)) == canonical(String(decoding: dictionary, as: UTF8.self)))
            }
        }
        #expect(SessionJSON.prefix("short", scalars: 100) == "short")
        #expect(SessionJSON.prefix(String(repeating: "🔑", count: 30), scalars: 25) == String(repeating: "🔑", count: 25))
    }

    /// A session is written through one pointer into memory reserved for the most its strings can take:
    /// strings made only of bytes that are escaped six times their size still fit, and read back intact.
    @Test func aSessionOfEscapesFitsItsReservation() throws {
        // The longest a device keeps: 512 characters of user agent, 64 of address.
        let agent = String(repeating: "\u{01}", count: 512)
        let address = String(repeating: "\u{1F}\"", count: 32)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let session = SessionRecord(
            idHash: String(repeating: "\\", count: 64), accountID: UUID(), device: Device(userAgent: agent, address: address),
            created: now, lastActivity: now, idleTimeout: 1_800, absoluteExpiry: now + 60, level: .password, refreshTokenID: "r")
        var buffer = ByteBuffer()
        SessionListingJSON(sessions: [session, session], current: session.idHash).writeJSON(into: &buffer)
        #expect(session.device.userAgent == agent && session.device.address == address)
        #expect(buffer.readableBytes > 2 * 6 * (512 + 100))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
        let listed = try #require(object["sessions"] as? [[String: Any]])
        #expect(listed.count == 2)
        for entry in listed {
            let device = try #require(entry["device"] as? [String: Any])
            #expect(device["user_agent"] as? String == agent)
            #expect(device["address"] as? String == address)
            #expect(entry["id"] as? String == session.idHash)
            #expect(entry["current"] as? Bool == true)
            let info = try #require(entry["device_info"] as? [String: Any])
            #expect(info["user_agent"] as? String == String(repeating: "\u{01}", count: 100))
        }
    }

    @Test func numbersParsedFromARequestKeepTheirKind() async throws {
        // Echoed values are Foundation's numbers: a boolean must stay a boolean, not become 1.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(#"{"t": true, "f": false, "i": 1, "d": 1.5, "n": null}"#.utf8)) as? [String: Any])
        #expect(try await canonical(written(parsed)) == #"{"d": 1.5, "f": false, "i": 1, "n": null, "t": true}"# + "\n")
    }
}

/// The hand-written timestamp format against Foundation's, over a wide range of instants.
struct TimestampTests {
    @Test func matchesFoundationsISO8601() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, -1, 59.999, 86_399.5, 951_782_400 /* 2000-02-29 */, 4_107_542_400 /* 2100-03-01 */, -2_208_988_800 /* 1900 */, 253_402_300_799 /* 9999-12-31T23:59:59 */]
        let random = (0..<2_000).map { _ in TimeInterval(Int64.random(in: -2_208_988_800...253_402_300_799, using: &generator)) + Double.random(in: 0..<1, using: &generator) }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(JSONResponse.timestamp(date) == date.formatted(Date.ISO8601FormatStyle()), "\(seconds)")
        }
    }
}

/// Field-encryption bodies are read from the shape check's own parse instead of a second pass through
/// `JSONDecoder`: the two must agree on every body, valid or not.
struct CryptoBodyReadingTests {
    static let bodies: [String] = [
        #"{"context":"users/email/42","plaintext":"aGk="}"#,
        #"{"context":"users\/email\u002f42","plaintext":"aGk=","extra":[1,2,{"x":null}]}"#,
        #"{"context":null,"plaintext":"aGk=","ciphertext":null}"#,
        #"{"items":[{"context":"a","plaintext":"aGk="},{"context":"b","ciphertext":"w1.x"}]}"#,
        #"{"items":[]}"#,
        #"{"items":null,"context":"c","plaintext":"\ud83d\ude00"}"#,
        #"{"context":1,"plaintext":"aGk="}"#,
        #"{"context":"a","plaintext":true}"#,
        #"{"items":{"context":"a"}}"#,
        #"{"items":[{"context":"a"},"b"]}"#,
        #"{"items":[{"context":["a"]}]}"#,
        #"{}"#,
    ]

    @Test(arguments: bodies)
    func treeAndDecoderAgree(_ body: String) throws {
        let bytes = Array(body.utf8)
        let decoded = try? JSONDecoder().decode(CryptoBody.self, from: Data(bytes))
        let (verdict, tree) = JSONShape.tree(bytes, maxDepth: 32)
        #expect(verdict == .valid)
        let read = try? CryptoBody(try #require(tree))
        #expect((decoded == nil) == (read == nil), "\(body)")
        if let decoded, let read {
            #expect(decoded.context == read.context && decoded.plaintext == read.plaintext && decoded.ciphertext == read.ciphertext)
            #expect(decoded.items?.map(\.context) == read.items?.map(\.context))
            #expect(decoded.items?.map(\.plaintext) == read.items?.map(\.plaintext))
            #expect(decoded.items?.map(\.ciphertext) == read.items?.map(\.ciphertext))
        }
    }

    /// Bodies the decoder refuses are refused by the tree too: a lone surrogate, invalid UTF-8, a
    /// duplicate key (after unescaping), nesting past the limit.
    @Test func malformedBodiesAreRefused() {
        #expect(JSONShape.tree(Array(#"{"context":"\ud83d","plaintext":"aGk="}"#.utf8), maxDepth: 32).tree == nil)
        #expect(JSONShape.tree([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], maxDepth: 32).tree == nil)
        #expect(JSONShape.tree(Array(#"{"context":"a","\u0063ontext":"b"}"#.utf8), maxDepth: 32).verdict == .duplicateKey)
        #expect(JSONShape.tree(Array(#"{"a":[[[[1]]]]}"#.utf8), maxDepth: 3).verdict == .tooDeep)
        // Numbers by JSON's grammar, even in members the route ignores. (Foundation's decoder skips an
        // ignored member without checking it and accepts these: the shape check is the stricter reader,
        // for every route, so a gateway and Warden cannot read one body two ways.)
        for number in ["1-2", "01", "1.", ".5", "1e", "+1", "--1", "1e+"] {
            let body = #"{"context":"a","plaintext":"aGk=","x":"# + number + "}"
            #expect(JSONShape.tree(Array(body.utf8), maxDepth: 32).verdict == .malformed, "\(number)")
            #expect(JSONShape.check(Array(body.utf8), maxDepth: 32) == .malformed, "\(number)")
        }
        for number in ["0", "-0", "12", "1.5", "-1.25e+10", "3E-2"] {
            #expect(JSONShape.tree(Array(#"{"x":"#.utf8) + Array(number.utf8) + [0x7D], maxDepth: 32).verdict == .valid, "\(number)")
        }
        #expect((try? JSONDecoder().decode(CryptoBody.self, from: Data(#"{"context":"\ud83d","plaintext":"aGk="}"#.utf8))) == nil)
    }

    /// Random objects (keys and values plain, escaped, or both, up to 40 members so that the duplicate
    /// check passes from its short list to its set), some with one key repeated under another spelling:
    /// the tree reads every string as Foundation does, and finds exactly the planted duplicates.
    @Test func randomObjectsReadAsFoundationReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefgh\"\\/\n\té€😀".unicodeScalars)
        func quoted(_ text: String) -> String {
            var buffer = ByteBuffer()
            JSONWriter.writeString(text, into: &buffer)
            return String(buffer: buffer)
        }
        func spelled(_ text: String, escaped: Bool) -> String {
            guard escaped else { return quoted(text) }
            // Every other scalar as a \u escape (two for scalars beyond the BMP), the rest as JSON writes them.
            var out = "\""
            for (index, scalar) in text.unicodeScalars.enumerated() {
                if index % 2 == 0 {
                    for unit in String(scalar).utf16 { out += "\\u" + String(unit, radix: 16).leftPadded(to: 4) }
                } else {
                    out += String(quoted(String(scalar)).dropFirst().dropLast())
                }
            }
            return out + "\""
        }
        for round in 0..<400 {
            let count = Int.random(in: 1...40, using: &generator)
            var keys = Set<String>()
            while keys.count < count {
                keys.insert(String(String.UnicodeScalarView((0..<Int.random(in: 1...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })))
            }
            var members = keys.map { key in
                (key: key, value: String(String.UnicodeScalarView((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })))
            }
            let duplicate = round % 3 == 0
            if duplicate, let repeated = members.randomElement(using: &generator) {
                members.insert((repeated.key, "again"), at: Int.random(in: 0...members.count, using: &generator))
            }
            let body = "{" + members.map { spelled($0.key, escaped: Bool.random(using: &generator)) + ":" + spelled($0.value, escaped: Bool.random(using: &generator)) }.joined(separator: ",") + "}"
            let bytes = Array(body.utf8)
            let (verdict, tree) = JSONShape.tree(bytes, maxDepth: 32)
            #expect(JSONShape.check(bytes, maxDepth: 32) == verdict)
            if duplicate {
                #expect(verdict == .duplicateKey, "\(body)")
                continue
            }
            #expect(verdict == .valid, "\(body)")
            let foundation = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
            guard case .object(let read)? = tree else {
                Issue.record("no object from \(body)")
                continue
            }
            #expect(read.count == members.count)
            for (key, value) in read {
                #expect(tree?[key] == .string(foundation[key] ?? "<missing>"), "\(key) in \(body)")
                #expect(value == .string(try #require(foundation[key])))
            }
        }
    }
}

extension JSONWriterTests {
    /// A body of many keys (as many as fit in a 1 MiB body) is read whole, and a repeated key is found
    /// wherever it is, also among the last.
    @Test func objectsOfManyKeysAreCheckedWhole() {
        let members = (0..<60_000).map { #""k\#($0)":0"# }
        let body = Array(("{" + members.joined(separator: ",") + "}").utf8)
        #expect(JSONShape.check(body, maxDepth: 32) == .valid)
        #expect(JSONShape.tree(body, maxDepth: 32).verdict == .valid)
        for repeated in [0, 15, 16, 59_999] {
            let twice = Array(("{" + (members + [#""k\#(repeated)":1"#]).joined(separator: ",") + "}").utf8)
            #expect(JSONShape.check(twice, maxDepth: 32) == .duplicateKey, "\(repeated)")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// The word-at-a-time scans against their byte-at-a-time definitions, on random text of every length and
/// alignment with the special bytes at every place.
struct JSONBytesTests {
    @Test func scansAgreeWithTheirDefinitions() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xC3, 0xA9, 0xFF] + Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
        for length in 0..<70 {
            for _ in 0..<200 {
                // Mostly plain text, with now and then a byte from the whole alphabet.
                let bytes = (0..<length).map { _ in
                    Int.random(in: 0..<8, using: &generator) == 0
                        ? alphabet.randomElement(using: &generator)! : UInt8.random(in: UInt8(ascii: "A")...UInt8(ascii: "Z"), using: &generator)
                }
                bytes.withUnsafeBufferPointer { pointer in
                    for start in 0...length {
                        let expected = bytes[start...].firstIndex(where: JSONBytes.isSpecial) ?? length
                        #expect(JSONBytes.plainRun(pointer, from: start) == expected)
                    }
                    #expect(JSONBytes.isASCII(pointer) == bytes.allSatisfy { $0 < 0x80 })
                    #expect(JSONBytes.text(pointer) == String(validating: bytes, as: UTF8.self))
                }
            }
        }
    }
}
