import Foundation
import Testing

@testable import WardenDelivery

struct MIMEContentTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test(arguments: [
        ("a\nb", "a\r\nb\r\n"),
        ("a\r\nb\r\n", "a\r\nb\r\n"),
        ("a\rb\r", "a\r\nb\r\n"),
        ("a\r\r\nb", "a\r\n\r\nb\r\n"),
        ("\n\n", "\r\n\r\n"),
        ("", ""),
    ])
    func lineEndingsBecomeCRLF(_ input: String, _ expected: String) {
        #expect(Self.text(MIMEContent.normalizedLines(Array(input.utf8))) == expected)
    }

    @Test(arguments: [
        ("a\r\n", "a\r\n.\r\n"),
        (".a\r\n", "..a\r\n.\r\n"),
        ("x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n.\r\n"),
        ("x\r\n..\r\n", "x\r\n...\r\n.\r\n"),
        ("no newline", "no newline\r\n.\r\n"),
        ("a.b\r\n", "a.b\r\n.\r\n"),
    ])
    func dotStuffing(_ input: String, _ expected: String) {
        #expect(Self.text(MIMEContent.dotStuffed(Array(input.utf8))) == expected)
    }

    @Test(arguments: [
        ("plain\r\n", "plain\r\n"),
        ("a=b\r\n", "a=3Db\r\n"),
        ("Grüße\r\n", "Gr=C3=BC=C3=9Fe\r\n"),
        ("trailing  \r\n", "trailing =20\r\n"),
        ("tab\t\r\n", "tab=09\r\n"),
        ("mid space ok\r\n", "mid space ok\r\n"),
        ("end ", "end=20"),
    ])
    func quotedPrintable(_ input: String, _ expected: String) {
        #expect(Self.text(MIMEEncoding.quotedPrintable(Array(input.utf8))) == expected)
    }

    @Test func quotedPrintableLinesStayWithin76Characters() {
        let input = Array((String(repeating: "é=x ", count: 100) + "\r\n" + String(repeating: "y", count: 200) + "\r\n").utf8)
        let encoded = Self.text(MIMEEncoding.quotedPrintable(input))
        #expect(encoded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        // Undo the soft breaks and the escapes: the input comes back.
        var decoded: [UInt8] = []
        let bytes = Array(encoded.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "=") {
                decoded.append(UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)!)
                index += 3
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        #expect(decoded == input)
    }

    @Test func headerTextIsEncodedOnlyWhenItMustBe() {
        #expect(MIMEEncoding.headerText("Your code", fieldName: "Subject") == "Your code")
        #expect(MIMEEncoding.headerText("Grüße", fieldName: "Subject") == "=?UTF-8?B?R3LDvMOfZQ==?=")
        #expect(MIMEEncoding.headerText("=?x?", fieldName: "Subject").hasPrefix("=?UTF-8?B?"))
        let long = String(repeating: "验", count: 40)
        let encoded = MIMEEncoding.headerText(long, fieldName: "Subject")
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count == 3)
        #expect(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") && $0.utf8.count <= 75 })
        // Each word decodes on its own: no UTF-8 sequence is split across words.
        let decoded = words.map { word in
            String(data: Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!, encoding: .utf8)
        }
        #expect(decoded.allSatisfy { $0 != nil })
        #expect(decoded.compactMap { $0 }.joined() == long)
    }

    @Test func datesAreRFC5322InUTC() {
        #expect(MIMEEncoding.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MIMEEncoding.rfc5322Date(Date(timeIntervalSince1970: 1_748_941_445)) == "Tue, 03 Jun 2025 09:04:05 +0000")
    }

    @Test func contentPicksItsEncodings() {
        let date = Date(timeIntervalSince1970: 0)
        let ascii = MIMEContent(EmailMessage(from: "a@b.c", to: "d@e.f", subject: "s", body: "hi"), date: date, messageID: "<1@b.c>")
        #expect(ascii.eightBit == nil)
        #expect(Self.text(ascii.sevenBit).contains("Content-Transfer-Encoding: 7bit\r\n"))
        #expect(Self.text(ascii.sevenBit).hasSuffix("\r\n\r\nhi\r\n.\r\n"))

        let utf8 = MIMEContent(EmailMessage(from: "a@b.c", to: "d@e.f", subject: "s", body: "é"), date: date, messageID: "<1@b.c>")
        #expect(Self.text(utf8.sevenBit).contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        #expect(Self.text(utf8.eightBit!).contains("Content-Transfer-Encoding: 8bit\r\n"))
        #expect(utf8.sevenBit.allSatisfy { $0 < 0x80 })

        let nul = MIMEContent(EmailMessage(from: "a@b.c", to: "d@e.f", subject: "s", body: "a\u{0}b"), date: date, messageID: "<1@b.c>")
        #expect(nul.eightBit == nil)
        #expect(Self.text(nul.sevenBit).contains("a=00b"))
    }

    @Test(arguments: [
        ("ada@example.org", true), ("a.b+tag@sub.example.co.uk", true), ("o'brien@example.ie", true),
        ("", false), ("ada", false), ("@example.org", false), ("ada@", false), ("ada@@example.org", false),
        ("a@b@example.org", false), ("ada@example..org", false), (".ada@example.org", false),
        ("ada @example.org", false), ("<ada@example.org>", false), ("ada@example.org\r\n", false),
        ("ada@exa_mple.org", false), ("\"ada\"@example.org", false), ("ådå@example.org", false),
        (String(repeating: "a", count: 65) + "@example.org", false),
    ])
    func addresses(_ address: String, _ valid: Bool) {
        #expect(EmailMessage.isValidAddress(address) == valid)
    }
}
