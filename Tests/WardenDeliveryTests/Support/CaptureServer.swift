import Foundation

/// A local stand-in for an SMS provider (`python/capture_server.py`) and the requests it captured.
struct CaptureServer: Sendable {
    struct Request: Decodable, Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body_b64: String

        var body: String { String(decoding: Data(base64Encoded: body_b64) ?? Data(), as: UTF8.self) }
    }

    let process: ServerProcess
    let outbox: String
    var port: Int { process.port }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Runs `body` with a server that answers `status` (or never answers, with `hang`); always stops it.
    static func with<T: Sendable>(
        status: Int = 201, hang: Bool = false, in directory: TestDirectory, _ body: (CaptureServer) async throws -> T
    ) async throws -> T {
        let outbox = try directory.subdirectory("captured-\(UUID().uuidString.prefix(8))")
        let process = try await ServerProcess.start(
            script: Python.script("capture_server.py"),
            arguments: [outbox, "--status", String(status)] + (hang ? ["--hang"] : []), logDirectory: directory.path)
        let server = CaptureServer(process: process, outbox: outbox)
        do {
            let result = try await body(server)
            await process.stop()
            return result
        } catch {
            await process.stop()
            throw error
        }
    }

    func requests() throws -> [Request] {
        try FileManager.default.contentsOfDirectory(atPath: outbox).filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONDecoder().decode(Request.self, from: Data(contentsOf: URL(fileURLWithPath: "\(outbox)/\($0)")))
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` independently of the code under test.
func decodeForm(_ body: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in body.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "<bad>"
        }
        fields[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    return fields
}
