import Foundation
import Testing
import WardenCore

struct HexTests {
    @Test func everyByteRoundTripsAndMatchesFoundation() throws {
        let bytes = (0...255).map(UInt8.init)
        let hex = Hex.encode(bytes)
        #expect(hex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.decode(hex) == bytes)
        #expect(Hex.decode(hex.uppercased()) == bytes)
        #expect(Hex.encode([]) == "")
    }

    @Test func malformedHexIsRefused() {
        for bad in ["a", "abc", "0g", "zz", " 00", "00 ", "-1", "٠٠"] {
            #expect(Hex.decode(bad) == nil, "\(bad)")
        }
    }
}
