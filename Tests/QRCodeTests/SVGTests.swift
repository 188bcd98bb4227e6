import Foundation
import Testing

@testable import QRCode

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("SVG rendering")
struct SVGTests {
    /// Collects elements and attributes; fails on anything that is not well-formed XML.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String]
        ) {
            elements.append((name, attributes))
        }
    }

    @Test(
        "well-formed, one path, crisp edges, white background, and the path draws exactly the dark modules",
        arguments: [(1, 4), (5, 0), (10, 2), (40, 4)])
    func document(version: Int, quietZone: Int) throws {
        let code = try QRCode(text: "svg \(version)", errorCorrection: .low, minimumVersion: version)
        let svg = code.svg(moduleSize: 3, quietZone: quietZone)
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "XML parse error: \(String(describing: parser.parserError))")
        let across = code.size + 2 * quietZone

        #expect(collector.elements.map(\.name) == ["svg", "rect", "path"])
        let root = try #require(collector.elements.first?.attributes)
        #expect(root["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root["viewBox"] == "0 0 \(across) \(across)")
        #expect(root["width"] == "\(across * 3)" && root["height"] == "\(across * 3)")
        #expect(root["shape-rendering"] == "crispEdges")
        let background = collector.elements[1].attributes
        #expect(background["fill"] == "#ffffff")
        #expect(background["width"] == "\(across)" && background["height"] == "\(across)")
        #expect(background["x"] == nil && background["y"] == nil)

        // Redraw the path: every subpath must be "Mx yhNv1h-Nz", a one-module-high rectangle.
        let path = try #require(collector.elements[2].attributes["d"])
        #expect(collector.elements[2].attributes["fill"] == "#000000")
        var dark = Set<[Int]>()
        for subpath in path.split(separator: " M").map({ $0.hasPrefix("M") ? $0.dropFirst() : $0 }) {
            let numbers = subpath.split(whereSeparator: { "hvz ".contains($0) }).compactMap { Int($0) }
            try #require(numbers.count == 5, "subpath \(subpath)")
            let (x, y, width) = (numbers[0], numbers[1], numbers[2])
            #expect(numbers[3] == 1 && numbers[4] == -width && width > 0)
            #expect(subpath == "\(x) \(y)h\(width)v1h-\(width)z")
            for column in x..<x + width { #expect(dark.insert([column, y]).inserted, "overlap at \(column), \(y)") }
        }
        var expected = Set<[Int]>()
        for y in 0..<code.size {
            for x in 0..<code.size where code[x, y] { expected.insert([x + quietZone, y + quietZone]) }
        }
        #expect(dark == expected)
    }
}
