import Foundation
import Testing

@testable import QRCode

/// zxing-cpp, an independent decoder, reads the PNG and SVG output back.
@Suite("Interop: zxing-cpp decodes the images", .disabled(if: PythonChecks.skipped, "WARDEN_SKIP_PYTHON=1"))
struct DecodeInteropTests {
    struct Decoded: Decodable {
        let decoded: Bool
        /// How many QR symbols the decoder found in the image.
        let count: Int?
        let hex: String?
        let text: String?
        let ec_level: String?
        let extra: [String: String]?
        let file: String?
    }

    struct PNGReport: Decodable {
        let chunks: [String]
        let width: Int
        let bit_depth: Int
        let colour_type: Int
        let zlib_header: String
        let quiet_zone_dark_pixels: Int
        let inconsistent_modules: Int
        let matrix: [String]
        let decoded: Bool
        let hex: String?
    }

    struct SVGReport: Decodable {
        let across: Int
        let quiet_zone_dark_modules: Int
        let matrix: [String]
        let decoded: Bool
        let text: String?
    }

    static let otpauth =
        "otpauth://totp/Warden:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Warden&algorithm=SHA1&digits=6&period=30"

    /// UTF-8 text of exactly `count` bytes, mixing one-, two-, three- and four-byte characters.
    static func text(bytes count: Int) -> String {
        let pieces = ["Warden ", "Grüße ", "世界 ", "🔐 ", "ключ ", "é"]
        var text = ""
        var index = 0
        while true {
            let piece = pieces[index % pieces.count]
            if text.utf8.count + piece.utf8.count > count { break }
            text += piece
            index += 1
        }
        return text + String(repeating: "x", count: count - text.utf8.count)
    }

    /// Writes each code as a PNG and decodes them all in one run of the helper.
    private func decode(_ codes: [QRCode], in directory: URL, moduleSize: Int = 4) async throws -> [Decoded] {
        var paths: [String] = []
        for (index, code) in codes.enumerated() {
            let url = directory.appendingPathComponent("code-\(index).png")
            try Data(code.png(moduleSize: moduleSize)).write(to: url)
            paths.append(url.path)
        }
        let results = try await PythonChecks.jsonLines(Decoded.self, ["decode"] + paths)
        try #require(results.count == codes.count)
        return results
    }

    @Test("Python 3 with zxing-cpp, segno and pillow is available")
    func toolsAvailable() async throws {
        let versions = try await PythonChecks.json([String: String].self, ["check"])
        #expect(Set(versions.keys) == ["zxing-cpp", "segno", "pillow"])
    }

    @Test("full-capacity payloads at every level decode to the same bytes", arguments: [1, 2, 7, 10, 20, 27, 40])
    func versionsAndLevels(version: Int) async throws {
        try await PythonChecks.withTemporaryDirectory { directory in
            var payloads: [[UInt8]] = []
            var codes: [QRCode] = []
            var random = SeededBytes(seed: UInt64(version))
            for level in QRErrorCorrection.allCases {
                let capacity = SymbolLayout(version: version, errorCorrection: level).byteCapacity
                // Binary bytes at L and Q, UTF-8 text at M and H; a full symbol selects `version` itself.
                let payload =
                    level == .low || level == .quartile
                    ? random.bytes(capacity) : Array(Self.text(bytes: capacity).utf8)
                let code = try QRCode(bytes: payload, errorCorrection: level)
                #expect(code.version == version)
                payloads.append(payload)
                codes.append(code)
            }
            let results = try await decode(codes, in: directory, moduleSize: version >= 20 ? 3 : 6)
            for (index, result) in results.enumerated() {
                let level = QRErrorCorrection.allCases[index]
                #expect(result.decoded, "\(version)-\(level.letter) did not decode")
                #expect(result.count == 1)
                #expect(result.hex == payloads[index].hex, "\(version)-\(level.letter) decoded other bytes")
                #expect(result.ec_level == level.letter)
                #expect(result.extra?["Version"] == "\(version)")
                #expect(result.extra?["DataMask"] == "\(codes[index].mask)")
            }
        }
    }

    @Test("short payloads: UTF-8 text and the otpauth URI decode as text at every level")
    func textPayloads() async throws {
        try await PythonChecks.withTemporaryDirectory { directory in
            // No empty payload here: zxing-cpp 3.1.1 reports no valid symbol for an empty byte segment,
            // segno's as well as ours. The segno matrix tests cover the empty payload instead.
            let texts = [Self.otpauth, "Grüße aus Köln — 世界 🔐", "a"]
            var codes: [QRCode] = []
            var expected: [String] = []
            for text in texts {
                for level in QRErrorCorrection.allCases {
                    codes.append(try QRCode(text: text, errorCorrection: level))
                    expected.append(text)
                }
            }
            let results = try await decode(codes, in: directory)
            for (index, result) in results.enumerated() {
                #expect(result.decoded, "\(expected[index]) at \(codes[index].errorCorrection)")
                #expect(result.text == expected[index])
                #expect(result.hex == Array(expected[index].utf8).hex)
            }
        }
    }

    @Test("every byte value survives, under each of the eight masks")
    func binaryUnderEveryMask() async throws {
        try await PythonChecks.withTemporaryDirectory { directory in
            let payload = (0...255).map { UInt8($0) }
            let codes = try (0..<8).map { try QRCode(bytes: payload, errorCorrection: .medium, mask: $0) }
            let results = try await decode(codes, in: directory)
            for (mask, result) in results.enumerated() {
                #expect(result.decoded && result.hex == payload.hex, "mask \(mask)")
                #expect(result.extra?["DataMask"] == "\(mask)")
            }
        }
    }

    @Test(
        "the PNG checks out in Python's zlib and Pillow: chunks, CRCs, Adler-32, pixels, quiet zone",
        arguments: [(2, 8, 4), (40, 2, 4), (10, 1, 0)])
    func pngInPython(version: Int, moduleSize: Int, quietZone: Int) async throws {
        try await PythonChecks.withTemporaryDirectory { directory in
            let code = try QRCode(text: Self.otpauth, errorCorrection: .high, minimumVersion: version)
            let url = directory.appendingPathComponent("code.png")
            try Data(code.png(moduleSize: moduleSize, quietZone: quietZone)).write(to: url)
            let report = try await PythonChecks.json(
                PNGReport.self, ["png", url.path, "\(moduleSize)", "\(quietZone)"])
            #expect(report.chunks == ["IHDR", "IDAT", "IEND"])
            #expect(report.width == (code.size + 2 * quietZone) * moduleSize)
            #expect(report.bit_depth == 1 && report.colour_type == 0)
            #expect(report.zlib_header == "7801")
            #expect(report.quiet_zone_dark_pixels == 0)
            #expect(report.inconsistent_modules == 0)
            #expect(report.matrix == code.rows)
            if quietZone >= 4 {  // decoders need the quiet zone; without one, only the structure is checked
                #expect(report.decoded && report.hex == Array(Self.otpauth.utf8).hex)
            }
        }
    }

    @Test("the SVG parses in Python, draws the same modules and decodes once rasterised", arguments: [1, 7, 25])
    func svgInPython(version: Int) async throws {
        try await PythonChecks.withTemporaryDirectory { directory in
            let code = try QRCode(text: Self.otpauth, errorCorrection: .quartile, minimumVersion: version)
            let url = directory.appendingPathComponent("code.svg")
            try Data(code.svg(moduleSize: 5).utf8).write(to: url)
            let report = try await PythonChecks.json(SVGReport.self, ["svg", url.path, "5", "4"])
            #expect(report.across == code.size + 8)
            #expect(report.quiet_zone_dark_modules == 0)
            #expect(report.matrix == code.rows)
            #expect(report.decoded && report.text == Self.otpauth)
        }
    }
}
