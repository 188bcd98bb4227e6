import Foundation
import Testing
import WardenTestSupport

/// The library example in the README is the compiled example, and it runs.
struct ExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theReadmeShowsTheCompiledExample() async throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/FieldEncryption/FieldEncryptionExample.swift"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Use the library"))
        let start = try #require(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "```\n", range: start.upperBound..<readme.endIndex))
        #expect(String(readme[start.upperBound..<end.lowerBound]) == example)
    }

    @Test func theExampleRuns() async throws {
        let binary = URL(fileURLWithPath: CLI.executable).deletingLastPathComponent().appendingPathComponent("warden-example").path
        let (status, output, _) = try await runProcess(binary, [])
        #expect(status == 0)
        #expect(String(decoding: output, as: UTF8.self).contains("rotated to version 2"))
    }
}
