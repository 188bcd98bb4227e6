import Foundation
import Testing
import WardenCore

/// WardenCore's UUID text against Foundation's, which it replaces on the session path.
struct UUIDTextTests {
    @Test func formatsAndParsesAsFoundationDoes() {
        for _ in 0..<2_000 {
            let uuid = UUID()
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
            #expect(UUID(text: uuid.uuidString) == uuid)
            #expect(UUID(text: uuid.uuidString.lowercased()) == uuid)
            #expect(UUID(text: Substring(uuid.lowercasedText)) == uuid)
        }
        let fixed = UUID(uuid: (0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF))
        #expect(fixed.lowercasedText == "00112233-4455-6677-8899-aabbccddeeff")
    }

    @Test(arguments: [
        "", "00112233-4455-6677-8899-aabbccddeeff ", " 00112233-4455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeef",
        "00112233-4455-6677-8899-aabbccddeefff", "001122334455-6677-8899-aabbccddeeff-", "00112233x4455-6677-8899-aabbccddeeff",
        "0011223-34455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeefg", "{00112233-4455-6677-8899-aabbccddeeff}",
        "00112233445566778899aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeé",
        "０0112233-4455-6677-8899-aabbccddeeff",
    ])
    func refusesWhatFoundationRefuses(_ text: String) {
        #expect(UUID(uuidString: text) == nil)
        #expect(UUID(text: text) == nil)
    }

    @Test func isStricterThanSscanf() {
        // Foundation on Linux parses with sscanf's %2hhx, which takes a sign: only hex digits here.
        #expect(UUID(text: "+0112233-4455-6677-8899-aabbccddeeff") == nil)
        #expect(UUID(text: "00112233-4455-6677-8899-aabbccddee-f") == nil)
    }
}
