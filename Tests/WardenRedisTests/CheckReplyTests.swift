import Foundation
import NIOCore
import Testing
import WardenSessions

@testable import WardenRedis

/// The session check script's reply read in place (`CheckReader`, what every authenticated request does)
/// against the same reply parsed in full and read as values: the same session, status and listing for
/// every shape the script writes and for shapes it does not, and no crash on bytes cut short.
struct CheckReplyTests {
    static let account = UUID()
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    /// One element of a reply, as RESP.
    enum Element {
        case text(String)
        case bytes([UInt8])
        case null3
        case null2
        case integer(Int)
        case array([Element])

        var wire: [UInt8] {
            switch self {
            case .text(let text): Element.bytes(Array(text.utf8)).wire
            case .bytes(let bytes): Array("$\(bytes.count)\r\n".utf8) + bytes + Array("\r\n".utf8)
            case .null3: Array("_\r\n".utf8)
            case .null2: Array("$-1\r\n".utf8)
            case .integer(let value): Array(":\(value)\r\n".utf8)
            case .array(let elements): Array("*\(elements.count)\r\n".utf8) + elements.flatMap(\.wire)
            }
        }
    }

    static func fields(_ index: Int, last: Int = 0) -> [Element] {
        let ms = Int(now.timeIntervalSince1970 * 1000)
        return [
            .text(account.uuidString.lowercased()), .text(String(ms - 3_600_000)), .text(String(ms - 60_000 + last)), .text("1800000"),
            .text(String(ms + 86_400_000)), .text(index % 2 == 0 ? "mfa" : "password"), .text("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.\(index)"),
            .text("203.0.113.\(index)"), .text(String(repeating: "ab", count: 8)), .text("refresh-\(index)"),
        ]
    }

    static func hash(_ index: Int) -> Element { .text(String(repeating: String(index % 10), count: 64)) }

    static func reply(status: Element = .text("active"), current: [Element] = fields(3), listed: [(Element, [Element])]) -> [UInt8] {
        Element.array([status, .array(current)] + listed.flatMap { [$0.0, .array($0.1)] }).wire
    }

    static let listing = (0..<10).map { (hash($0), fields($0, last: $0 * 1000)) }

    /// Every shape below, read both ways.
    static let replies: [(String, [UInt8])] = {
        var listingWith = listing
        listingWith[4].1[2] = .null3
        var twoNulls = listing
        twoNulls[1].1[6] = .null2
        twoNulls[7].0 = .null3
        var nine = listing
        nine[5].1.removeLast()
        var integerField = listing
        integerField[2].1[3] = .integer(1_800_000)
        var odd = listing
        odd[0].1[1] = .text("0017")
        odd[1].1[5] = .text("root")
        odd[2].1[0] = .text("not a uuid")
        odd[3].1[6] = .bytes([0x4D, 0xFF, 0xFE, 0x7A])
        var currentNull = fields(3)
        currentNull[9] = .null3
        return [
            ("the script's usual reply", reply(listed: listing)),
            ("status unknown", reply(status: .text(""), listed: listing)),
            ("status null", reply(status: .null3, listed: listing)),
            ("status disabled", reply(status: .text("disabled"), listed: listing)),
            ("a listed session with a null field", reply(listed: listingWith)),
            ("RESP2 nulls and a null hash", reply(listed: twoNulls)),
            ("a listed session of nine fields", reply(listed: nine)),
            ("an integer where a string is expected", reply(listed: integerField)),
            ("numbers, levels, ids and text that read differently", reply(listed: odd)),
            ("the current session with a null field", reply(current: currentNull, listed: listing)),
            ("no listing", reply(listed: [])),
            ("an odd element at the end", Array("*23\r\n".utf8) + reply(listed: listing).dropFirst(5) + Array(":1\r\n".utf8)),
            ("a status that is a number", Element.array([.integer(1), .array(fields(3))]).wire),
            ("a single element", Element.array([.text("active")]).wire),
        ]
    }()

    static func readBothWays(_ wire: [UInt8], listing: Bool) throws -> (fast: SessionCheck?, parsed: SessionCheck?) {
        var parser = RESPParser()
        var buffer = ByteBuffer(bytes: wire)
        let frame = try #require(try parser.parse(&buffer, unparsedArrays: true))
        #expect(buffer.readableBytes == 0)
        var plain = RESPParser()
        var again = ByteBuffer(bytes: wire)
        let value = try #require(try plain.parse(&again))
        let hash = String(repeating: "3", count: 64)
        return (RedisSessionStore.check(frame, sessionHash: hash, listing: listing), RedisSessionStore.check(value, sessionHash: hash, listing: listing))
    }

    static func same(_ a: SessionCheck?, _ b: SessionCheck?) -> Bool {
        a?.session == b?.session && a?.accountActive == b?.accountActive && a?.sessions == b?.sessions
    }

    @Test(arguments: 0..<replies.count)
    func theBytesReadAsTheParsedValues(_ index: Int) throws {
        let (name, wire) = Self.replies[index]
        for listing in [true, false] {
            let (fast, parsed) = try Self.readBothWays(wire, listing: listing)
            #expect(Self.same(fast, parsed), "\(name), listing \(listing)")
        }
    }

    /// What the usual reply reads as, spelled out.
    @Test func theUsualReplyReadsAsItsSessions() throws {
        let (check, _) = try Self.readBothWays(Self.reply(listed: Self.listing), listing: true)
        let read = try #require(check)
        #expect(read.accountActive == true)
        #expect(read.session.idHash == String(repeating: "3", count: 64))
        #expect(read.session.accountID == Self.account)
        #expect(read.session.device.userAgent == "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.3")
        #expect(read.session.idleTimeout == 1800)
        #expect(read.session.level == .password)
        #expect(read.session.refreshTokenID == "refresh-3")
        let listed = try #require(read.sessions)
        #expect(listed.count == 10)
        // Most recently active first.
        #expect(listed.map(\.device.address) == (0..<10).reversed().map { "203.0.113.\($0)" })
        let (unknown, _) = try Self.readBothWays(Self.reply(status: .text(""), listed: Self.listing), listing: false)
        #expect(unknown?.accountActive == nil)
        #expect(unknown?.sessions == nil)
    }

    /// Bytes cut short (never what the connection hands over, which has checked them) read as no session,
    /// at every length, without reading past them.
    @Test func bytesCutShortReadAsNoSession() {
        let wire = Self.reply(listed: Self.listing)
        for length in 0..<wire.count {
            let check = RedisSessionStore.check(.frame(ByteBuffer(bytes: wire[..<length])), sessionHash: String(repeating: "3", count: 64), listing: true)
            #expect(check == nil, "cut at \(length)")
        }
    }
}
