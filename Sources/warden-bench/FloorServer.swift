import Foundation
import Hummingbird
import Logging
import NIOCore

/// The floor under Warden's request path: Hummingbird 2 with HTTP/1.1 on the same event loops, one route,
/// a fixed body, no middleware, no logging. `scripts/http-bench.sh` loads it beside Warden's `GET /health`
/// to show how much of a request's CPU time the framework itself takes on this machine.
enum FloorServer {
    static func run(port: Int) async throws {
        let router = Router()
        let body = ByteBuffer(string: #"{"status":"ok"}"#)
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        var logger = Logger(label: "floor")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in print("floor: listening on http://127.0.0.1:\(port)") }, logger: logger)
        try await app.runService()
    }
}
