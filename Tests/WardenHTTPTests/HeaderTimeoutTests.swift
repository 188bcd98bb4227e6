import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenHTTP
import WardenTestSupport

/// The header timeout over a real socket (plain HTTP, the server as `warden serve` builds it): headers
/// dribbled a byte at a time and a silent new connection are cut off; a keep-alive connection waiting
/// between requests is not, pipelined or not.
struct HeaderTimeoutTests {
    /// A server as `warden serve` builds it, with a 1 s header timeout and a 60 s idle timeout.
    static func withServer(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let fixture = try await APIFixture.make {
            $0.port = 0
            $0.tls = false
            $0.headerTimeout = .seconds(1)
            $0.idleTimeout = .seconds(60)
        }
        let app = try WardenServer.application(api: fixture.api, tls: nil, logger: Logger(label: "test"))
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    /// Sends a request head a byte every 200 ms; how long after its first byte the server closed the
    /// connection (nil: it never did, in the 16 s the head takes).
    static func dribbleHead(on connection: RawConnection) -> TimeInterval? {
        let started = Date()
        for byte in Array("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: \(String(repeating: "a", count: 60))\r\n".utf8) {
            if !connection.send([byte]) || connection.isClosedByPeer() { return Date().timeIntervalSince(started) }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    @Test func slowHeadersAndSilentConnectionsAreClosedIdleKeepAliveIsNot() async throws {
        try await Self.withServer { port in
            let results = try await offPool {
                // Headers a byte every 200 ms: each byte resets nothing; the connection is closed about
                // 1 s in, far before the 60 s idle timeout (and before the 16 s we would dribble for).
                let closedAfter = Self.dribbleHead(on: try RawConnection(port: port))
                // A connection that never sends anything.
                let silent = try RawConnection(port: port)
                Thread.sleep(forTimeInterval: 2.5)
                let silentClosed = silent.isClosedByPeer()

                // Keep-alive: a request, a pause longer than the header timeout, another request.
                let polite = try RawConnection(port: port)
                let request = Array("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                _ = polite.send(request)
                let first = polite.receive()
                Thread.sleep(forTimeInterval: 2.5)
                _ = polite.send(request)
                let second = polite.receive()

                // Pipelined: two requests in one write, both answered; the connection then idles past the
                // header timeout and still serves a third.
                let pipelined = try RawConnection(port: port)
                _ = pipelined.send(request + request)
                var answers = ""
                while answers.components(separatedBy: "HTTP/1.1 200").count - 1 < 2 {
                    let more = pipelined.receive()
                    if more.isEmpty { break }
                    answers += more
                }
                Thread.sleep(forTimeInterval: 2.5)
                _ = pipelined.send(request)
                let third = pipelined.receive()
                return (closedAfter, silentClosed, first, second, answers.components(separatedBy: "HTTP/1.1 200").count - 1, third)
            }
            let (closedAfter, silentClosed, first, second, pipelinedAnswers, third) = results
            let after = try #require(closedAfter, "the dribbling connection was never closed")
            #expect(after >= 0.8 && after < 8, "closed after \(after) s")
            #expect(silentClosed)
            #expect(first.hasPrefix("HTTP/1.1 200"), "\(first)")
            #expect(second.hasPrefix("HTTP/1.1 200"), "\(second)")
            #expect(pipelinedAnswers == 2)
            #expect(third.hasPrefix("HTTP/1.1 200"), "\(third)")
        }
    }
}

extension HeaderTimeoutTests {
    /// The connection's one timer, armed for an earlier head that then arrived in time, still closes a
    /// later head sent slowly on the same connection (it re-arms for the later deadline when it fires).
    @Test func aSlowHeadAfterFastRequestsOnOneConnectionIsClosed() async throws {
        try await Self.withServer { port in
            let (answers, closedAfter) = try await offPool {
                let connection = try RawConnection(port: port)
                let request = Array("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                var answers = 0
                for _ in 0..<5 {
                    _ = connection.send(request)
                    if connection.receive().hasPrefix("HTTP/1.1 200") { answers += 1 }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                return (answers, Self.dribbleHead(on: connection))
            }
            #expect(answers == 5)
            let after = try #require(closedAfter, "the slow head was never cut off")
            #expect(after >= 0.8 && after < 8, "closed after \(after) s")
        }
    }
}

/// Responses the router never sees still carry the security headers (issue 10, item 11).
struct ParserErrorTests {
    @Test func anOversizedRequestHeadGets400WithTheSecurityHeaders() async throws {
        let fixture = try await APIFixture.make {
            $0.port = 0
            $0.tls = false
        }
        let app = try WardenServer.application(api: fixture.api, tls: nil, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let answer = try await offPool {
                let connection = try RawConnection(port: port)
                _ = connection.send(Array("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: \(String(repeating: "a", count: 200_000))\r\n\r\n".utf8))
                var text = ""
                while !text.contains("\r\n\r\n") {
                    let more = connection.receive()
                    if more.isEmpty { break }
                    text += more
                }
                return text
            }
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(200))")
            // A request without Host (RFC 9112 §3.2) and one with two are refused too.
            for head in ["GET /health HTTP/1.1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n"] {
                let status = try await offPool {
                    let connection = try RawConnection(port: port)
                    _ = connection.send(Array(head.utf8))
                    return String(connection.receive().prefix(12))
                }
                #expect(status == "HTTP/1.1 400", "\(head.debugDescription): \(status)")
            }
            let lower = answer.lowercased()
            for header in ["x-content-type-options: nosniff", "x-frame-options: deny", "content-security-policy: default-src 'none'", "cache-control: no-store"] {
                #expect(lower.contains(header), "\(header) in \(answer.prefix(400))")
            }
        }
    }
}
