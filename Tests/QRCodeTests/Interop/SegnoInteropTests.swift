import Foundation
import Testing

@testable import QRCode

/// Module-for-module comparison with segno, an established Python encoder.
///
/// segno 1.6.6 differs from the standard in one place that shows in byte mode: after the terminator it
/// always adds eight zero bits (a 0x00 codeword) when the stream already ends on a codeword boundary,
/// where ISO/IEC 18004 7.4.10 adds padding bits only when it does not (segno issue #148). In byte mode
/// the stream always ends on a boundary there, so segno's pad codewords are shifted by one byte unless
/// the payload fills the symbol. Full-capacity payloads are therefore compared as they are; shorter ones
/// are compared after feeding segno's bit stream through our encoder's later stages, which checks
/// everything else (error correction, interleaving, placement, masks, format and version information).
@Suite("Interop: module matrices match segno", .disabled(if: PythonChecks.skipped, "WARDEN_SKIP_PYTHON=1"))
struct SegnoInteropTests {
    struct SegnoSymbol: Decodable {
        let version: Int
        let error: String
        let mask: Int
        let matrix: [String]
    }

    struct Request: Encodable {
        let hex: String
        let level: String
        let version: Int
        let mask: String
    }

    /// The data codewords segno makes: ours with a 0x00 codeword after the terminator, pads shifted.
    static func segnoStyleData(_ payload: [UInt8], layout: SymbolLayout) -> [UInt8] {
        let standard = DataCodewords.byteMode(payload, layout: layout)
        // Mode, count, data and a whole terminator end on a byte boundary in byte mode.
        let streamBytes = (4 + layout.byteCountBits + 8 * payload.count + 4) / 8
        var data = Array(standard.prefix(streamBytes)) + [0x00]
        var pad: UInt8 = 0xEC
        while data.count < layout.dataCodewords {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return Array(data.prefix(layout.dataCodewords))
    }

    private func segno(_ requests: [Request]) async throws -> [SegnoSymbol] {
        let input = try requests.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            .joined(separator: "\n")
        let symbols = try await PythonChecks.jsonLines(SegnoSymbol.self, ["matrices"], input: Data(input.utf8))
        try #require(symbols.count == requests.count)
        return symbols
    }

    struct Fixed: Sendable, CustomTestStringConvertible {
        let text: String
        let level: QRErrorCorrection
        let mask: Int
        var testDescription: String { "\(text.prefix(24))… \(level.letter) mask \(mask)" }
    }

    /// Payloads that fill their symbol exactly, so segno's stream and ours are the same.
    static let fixed: [Fixed] = [
        Fixed(text: "WARDEN-TOTP-01", level: .medium, mask: 3),  // 1-M holds 14 bytes
        Fixed(text: "Warden", level: .high, mask: 6),  // 1-H holds 7 bytes: 6 + one more below
        Fixed(text: DecodeInteropTests.otpauth, level: .low, mask: 5),
        Fixed(text: DecodeInteropTests.otpauth, level: .high, mask: 1),
        Fixed(text: "Grüße — 世界 🔐", level: .quartile, mask: 0),
    ]

    @Test("fixed inputs at full capacity: the single-shot `matrix` command agrees module for module", arguments: fixed)
    func fixedInputs(_ fixed: Fixed) async throws {
        // Grow the payload to exactly fill the smallest version that holds it.
        var payload = Array(fixed.text.utf8)
        let version = try QRCode(bytes: payload, errorCorrection: fixed.level, mask: 0).version
        let capacity = SymbolLayout(version: version, errorCorrection: fixed.level).byteCapacity
        payload += Array(String(repeating: "~", count: capacity - payload.count).utf8)
        let code = try QRCode(bytes: payload, errorCorrection: fixed.level, mask: fixed.mask)
        #expect(code.version == version)
        let symbol = try await PythonChecks.json(
            SegnoSymbol.self, ["matrix", payload.hex, fixed.level.letter, "\(version)", "\(fixed.mask)"])
        #expect(symbol.version == version && symbol.mask == fixed.mask && symbol.error == fixed.level.letter)
        #expect(symbol.matrix == code.rows)
    }

    @Test("all 40 versions × 4 levels at full capacity agree module for module")
    func everyVersionAndLevel() async throws {
        var random = SeededBytes(seed: 18004)
        var requests: [Request] = []
        var codes: [QRCode] = []
        for version in 1...40 {
            for level in QRErrorCorrection.allCases {
                let payload = random.bytes(SymbolLayout(version: version, errorCorrection: level).byteCapacity)
                let mask = (version + level.tableIndex) % 8
                codes.append(try QRCode(bytes: payload, errorCorrection: level, mask: mask))
                requests.append(Request(hex: payload.hex, level: level.letter, version: version, mask: "\(mask)"))
            }
        }
        let symbols = try await segno(requests)
        for (code, symbol) in zip(codes, symbols) {
            #expect(code.version == symbol.version)
            #expect(code.rows == symbol.matrix, "\(code.version)-\(code.errorCorrection.letter) mask \(code.mask)")
        }
    }

    @Test(
        "short payloads differ only by segno's extra 0x00 codeword",
        arguments: [
            ("", 1, QRErrorCorrection.medium), ("hello", 1, .medium), (DecodeInteropTests.otpauth, 7, .quartile),
            ("Grüße — 世界 🔐", 10, .high), ("x", 40, .low),
        ])
    func shortPayloads(text: String, minimumVersion: Int, level: QRErrorCorrection) async throws {
        let payload = Array(text.utf8)
        let version = try QRCode(bytes: payload, errorCorrection: level, minimumVersion: minimumVersion, mask: 0).version
        let layout = SymbolLayout(version: version, errorCorrection: level)
        try #require(payload.count < layout.byteCapacity, "the payload must leave room for pad codewords")
        let requests = (0..<8).map { Request(hex: payload.hex, level: level.letter, version: version, mask: "\($0)") }
        let symbols = try await segno(requests)
        for (mask, symbol) in symbols.enumerated() {
            let ours = try QRCode(bytes: payload, errorCorrection: level, minimumVersion: version, mask: mask)
            let fromSegnoStream = QRCode(
                dataCodewords: Self.segnoStyleData(payload, layout: layout), layout: layout,
                errorCorrection: level, mask: mask)
            #expect(fromSegnoStream.rows == symbol.matrix, "mask \(mask)")
            // If this starts failing, segno has changed its padding: compare the symbols directly then.
            #expect(ours.rows != symbol.matrix, "mask \(mask): segno now pads as the standard does")
        }
    }

    // MARK: - Mask selection

    /// The modules segno leaves light while it scores masks: both copies of the format information,
    /// the dark module and, from version 7, both version information blocks.
    struct Scores: Decodable {
        let segno: [Int]
        let n3_every_occurrence: Int
    }

    static func blankedForSegno(_ code: QRCode) -> [String] {
        let n = code.size
        var rows = code.rows.map { Array($0) }
        var light: [(Int, Int)] = [(7, 8), (8, 8), (8, 7)] + (0...5).flatMap { [($0, 8), (8, $0)] }
        light += (n - 8..<n).flatMap { [($0, 8), (8, $0)] }
        if code.version >= 7 {
            for near in 0..<6 {
                for far in n - 11..<n - 8 { light += [(near, far), (far, near)] }
            }
        }
        for (x, y) in light { rows[y][x] = "0" }
        return rows.map { String($0) }
    }

    /// Payloads with the smallest version to use (a larger one is taken when the payload needs it).
    static let maskInputs: [(String, Int, QRErrorCorrection)] = [
        ("hello", 1, .medium), ("WARDEN", 1, .low), (DecodeInteropTests.otpauth, 6, .medium),
        (DecodeInteropTests.otpauth, 7, .quartile), (DecodeInteropTests.otpauth, 10, .high),
        ("Grüße — 世界 🔐", 2, .low), (String(repeating: "0123456789", count: 20), 9, .quartile),
        (String(repeating: "abc", count: 300), 27, .low),
    ]

    @Test(
        "mask selection: ours is the lowest by segno's own scorer on complete symbols; segno's is the lowest with format information left out",
        arguments: maskInputs)
    func maskSelection(text: String, minimumVersion: Int, level: QRErrorCorrection) async throws {
        let payload = Array(text.utf8)
        let version = try QRCode(bytes: payload, errorCorrection: level, minimumVersion: minimumVersion, mask: 0).version
        let layout = SymbolLayout(version: version, errorCorrection: level)
        // Both encoders work from segno's bit stream here, so the symbols differ only in the mask.
        let data = Self.segnoStyleData(payload, layout: layout)
        let candidates = (0..<8).map {
            QRCode(dataCodewords: data, layout: layout, errorCorrection: level, mask: $0)
        }
        let automatic = QRCode(dataCodewords: data, layout: layout, errorCorrection: level, mask: nil)
        let segnoChoice = try await segno([Request(hex: payload.hex, level: level.letter, version: version, mask: "auto")])[0]
        #expect(segnoChoice.matrix == candidates[segnoChoice.mask].rows)

        let complete = candidates.map { #"{"matrix":["# + $0.rows.map { "\"\($0)\"" }.joined(separator: ",") + "]}" }
        let blanked = candidates.map { #"{"matrix":["# + Self.blankedForSegno($0).map { "\"\($0)\"" }.joined(separator: ",") + "]}" }
        let scores = try await PythonChecks.jsonLines(
            Scores.self, ["scores"], input: Data((complete + blanked).joined(separator: "\n").utf8))
        try #require(scores.count == 16)

        // Our scorer agrees with segno's on N1, N2 and N4, and with the Python count of every N3 occurrence.
        // segno's own N3 can be lower: its scan skips an occurrence that starts on the last dark module of
        // the previous one (typically a finder's outer ring, its separator and the modules beyond).
        var standardTotals: [Int] = []
        for (mask, candidate) in candidates.enumerated() {
            let ours = MaskPenalty.score(candidate.modules, size: candidate.size)
            let theirs = scores[mask]
            let oursN1N2N4: [Int] = [ours.runs, ours.blocks, ours.balance]
            let segnoN1N2N4: [Int] = [theirs.segno[0], theirs.segno[1], theirs.segno[3]]
            #expect(oursN1N2N4 == segnoN1N2N4, "mask \(mask)")
            #expect(ours.finderLike == theirs.n3_every_occurrence, "mask \(mask)")
            #expect(ours.finderLike >= theirs.segno[2], "mask \(mask)")
            standardTotals.append(theirs.segno[0] + theirs.segno[1] + theirs.n3_every_occurrence + theirs.segno[3])
        }
        let blankedTotals = scores[8..<16].map { $0.segno.reduce(0, +) }
        #expect(automatic.mask == standardTotals.firstIndex(of: standardTotals.min()!), "complete: \(standardTotals)")
        #expect(segnoChoice.mask == blankedTotals.firstIndex(of: blankedTotals.min()!), "blanked: \(blankedTotals)")
        if automatic.mask != segnoChoice.mask {
            // Not an issue: recorded so the run shows where the two readings of 7.8.3.1 part ways.
            print("mask choice differs from segno for \(version)-\(level.letter): ours \(automatic.mask), segno \(segnoChoice.mask)")
        }
    }
}
