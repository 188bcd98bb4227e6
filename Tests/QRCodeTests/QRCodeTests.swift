import Foundation
import Testing

@testable import QRCode

@Suite("Encoding: capacity, version selection and argument checks")
struct QRCodeTests {
    static let largestAtVersion40: [(QRErrorCorrection, Int)] = [
        (.low, 2953), (.medium, 2331), (.quartile, 1663), (.high, 1273),
    ]

    @Test("the largest payload fits version 40; one byte more throws dataTooLong", arguments: largestAtVersion40)
    func version40Capacity(level: QRErrorCorrection, capacity: Int) throws {
        var random = SeededBytes(seed: UInt64(capacity))
        let payload = random.bytes(capacity + 1)
        let code = try QRCode(bytes: payload.dropLast(), errorCorrection: level)
        #expect(code.version == 40)
        #expect(code.size == 177)
        let error = #expect(throws: QRCodeError.self) { try QRCode(bytes: payload, errorCorrection: level) }
        #expect(error?.code == .dataTooLong)
        #expect(error?.message.contains("\(capacity + 1) bytes") == true)
    }

    @Test("error messages carry sizes, never the payload")
    func errorMessageOmitsPayload() {
        let secret = "otpauth://totp/Warden:alice?secret=JBSWY3DPEHPK3PXP" + String(repeating: "A", count: 3000)
        let error = #expect(throws: QRCodeError.self) { try QRCode(text: secret, errorCorrection: .high) }
        #expect(error?.code == .dataTooLong)
        #expect(error.map { !$0.description.contains("JBSWY3DP") && !$0.description.contains("otpauth") } == true)
    }

    @Test("a payload of exactly a version's capacity selects it; one byte more selects the next", arguments: QRErrorCorrection.allCases)
    func versionBoundaries(level: QRErrorCorrection) throws {
        for version in [1, 2, 6, 7, 9, 10, 13, 26, 27, 39] {
            let capacity = SymbolLayout(version: version, errorCorrection: level).byteCapacity
            let payload = [UInt8](repeating: 0x5A, count: capacity + 1)
            #expect(try QRCode(bytes: payload.dropLast(), errorCorrection: level, mask: 0).version == version)
            #expect(try QRCode(bytes: payload, errorCorrection: level, mask: 0).version == version + 1)
        }
    }

    @Test("the empty payload makes a version 1 symbol")
    func emptyPayload() throws {
        let code = try QRCode(bytes: [UInt8](), errorCorrection: .high)
        #expect(code.version == 1)
        #expect(code.size == 21)
    }

    @Test("minimumVersion raises the version but never lowers it below what the payload needs")
    func minimumVersion() throws {
        #expect(try QRCode(text: "hi", minimumVersion: 5).version == 5)
        #expect(try QRCode(text: "hi", minimumVersion: 40).version == 40)
        let needsFour = [UInt8](repeating: 1, count: 60)  // 4-M holds 62 bytes, 3-M holds 42
        #expect(try QRCode(bytes: needsFour, minimumVersion: 2).version == 4)
        let error = #expect(throws: QRCodeError.self) {
            try QRCode(bytes: [UInt8](repeating: 1, count: 2332), minimumVersion: 40)
        }
        #expect(error?.code == .dataTooLong)
    }

    @Test("versions outside 1...40 are rejected", arguments: [0, -1, 41, Int.max, Int.min])
    func invalidVersion(version: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRCode(text: "x", minimumVersion: version) }
        #expect(error?.code == .invalidVersion)
    }

    @Test("masks outside 0...7 are rejected", arguments: [-1, 8, 100])
    func invalidMask(mask: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRCode(text: "x", mask: mask) }
        #expect(error?.code == .invalidMask)
        #expect(error == QRCodeError.invalidMask(mask))
    }

    @Test("an explicit mask is used as given, and text means its UTF-8 bytes", arguments: 0..<8)
    func explicitMask(mask: Int) throws {
        let text = "Grüße, 世界 🔐"
        let fromText = try QRCode(text: text, errorCorrection: .quartile, mask: mask)
        let fromBytes = try QRCode(bytes: Array(text.utf8), errorCorrection: .quartile, mask: mask)
        #expect(fromText.mask == mask)
        #expect(fromText.rows == fromBytes.rows)
        #expect(fromText.errorCorrection == .quartile)
    }

    @Test("function patterns: finders, separators, timing and an alignment pattern where the standard puts them")
    func functionPatterns() throws {
        let code = try QRCode(text: "patterns", minimumVersion: 2)
        let n = code.size
        let finder = ["1111111", "1000001", "1011101", "1011101", "1011101", "1000001", "1111111"]
        for (originX, originY) in [(0, 0), (n - 7, 0), (0, n - 7)] {
            for (dy, row) in finder.enumerated() {
                let read = String((0..<7).map { code[originX + $0, originY + dy] ? "1" : "0" })
                #expect(read == row, "finder at (\(originX), \(originY)) row \(dy)")
            }
        }
        for index in 0..<8 {  // separators
            #expect(!code[7, index] && !code[index, 7])
            #expect(!code[n - 8, index] && !code[n - 1 - index, 7])
            #expect(!code[7, n - 1 - index] && !code[index, n - 8])
        }
        for index in 8..<(n - 8) {  // timing
            #expect(code[index, 6] == (index % 2 == 0))
            #expect(code[6, index] == (index % 2 == 0))
        }
        // Version 2 has one alignment pattern, centred on (18, 18).
        let alignment = ["11111", "10001", "10101", "10001", "11111"]
        for (dy, row) in alignment.enumerated() {
            #expect(String((16...20).map { code[$0, 16 + dy] ? "1" : "0" }) == row)
        }
    }

    @Test("encoding a version 10 symbol with mask selection is fast")
    func speed() throws {
        let payload = [UInt8](repeating: 0x42, count: 200)
        let runs = 20
        var version = 0
        // CPU time of this thread, so other tests running in parallel do not count against it.
        let microseconds =
            try threadCPUTime {
                for _ in 0..<runs { version = try QRCode(bytes: payload, errorCorrection: .medium).version }
            } / Double(runs)
        #expect(version == 10)
        print("version 10 with mask selection: \(Int(microseconds)) µs of CPU time per symbol")
        #if DEBUG
        // An unoptimised build takes a few milliseconds; this catches order-of-magnitude regressions.
        #expect(microseconds < 60_000)
        #else
        // An optimised build takes about 0.3 ms on a busy two-core machine.
        #expect(microseconds < 2_000)
        #endif
    }

    /// The CPU time `body` takes on the calling thread, in microseconds.
    private func threadCPUTime(_ body: () throws -> Void) rethrows -> Double {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        try body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return Double(end.tv_sec - start.tv_sec) * 1e6 + Double(end.tv_nsec - start.tv_nsec) / 1e3
    }
}
