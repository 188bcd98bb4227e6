import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenHTTP
import WardenTestSupport

/// The body and response deadlines over real sockets (plain HTTP, the server as `warden serve` builds
/// it): a body trickled a byte every 1.5 s and a body that stops are cut off at their limits, a reader
/// that stops reading loses the connection, and the sign-in limit is charged only for bodies that arrive.
struct BodyDeadlineTests {
    static let login = #"{"username":"nobody","password":"not the password at all"}"#
    static func loginHead(length: Int) -> String {
        "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
    }

    @Test func aTrickledBodyIsCutOffByTheMinimumRate() async throws {
        let fixture = try await APIFixture.make {
            $0.tls = false
            $0.bodyTimeout = .seconds(60)
            $0.bodyMinimumRate = 16
            $0.bodyRateGrace = .seconds(2)
        }
        try await fixture.app.test(.live) { client in
            let port = try #require(client.port)
            let closedAfter = try await offPool { () -> TimeInterval? in
                let connection = try RawConnection(port: port)
                connection.send(Self.loginHead(length: 200))
                let started = Date()
                // Slowloris: a byte every 1.5 s would take 300 s; the rate (16 B/s after 2 s) ends it.
                for _ in 0..<20 {
                    if !connection.send("{") || connection.isClosedByPeer() { return Date().timeIntervalSince(started) }
                    Thread.sleep(forTimeInterval: 1.5)
                }
                return nil
            }
            let after = try #require(closedAfter, "the trickling connection was never closed")
            #expect(after >= 1.5 && after < 6, "closed after \(after) s")
        }
    }

    @Test func aStalledBodyIsCutOffByTheBodyTimeoutAndANormalOneIsNot() async throws {
        let fixture = try await APIFixture.make {
            $0.tls = false
            $0.bodyTimeout = .seconds(2)
            $0.bodyMinimumRate = 0
        }
        try await fixture.app.test(.live) { client in
            let port = try #require(client.port)
            let (closedAfter, normal) = try await offPool { () -> (TimeInterval?, String) in
                let stalled = try RawConnection(port: port)
                stalled.send(Self.loginHead(length: 200) + "{\"username\":")
                let started = Date()
                var closedAfter: TimeInterval?
                while Date().timeIntervalSince(started) < 10 {
                    if stalled.isClosedByPeer() {
                        closedAfter = Date().timeIntervalSince(started)
                        break
                    }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                // A body sent in two parts a second apart, well within the limits, is answered.
                let normal = try RawConnection(port: port)
                let body = Array(Self.login.utf8)
                normal.send(Self.loginHead(length: body.count))
                normal.send(Array(body[..<10]))
                Thread.sleep(forTimeInterval: 1)
                normal.send(Array(body[10...]))
                return (closedAfter, normal.receive())
            }
            let after = try #require(closedAfter, "the stalled connection was never closed")
            #expect(after >= 1.7 && after < 5, "closed after \(after) s")
            #expect(normal.hasPrefix("HTTP/1.1 401"), "\(normal)")
        }
    }

    @Test func aReaderThatStopsReadingIsDisconnected() async throws {
        let fixture = try await APIFixture.make {
            $0.tls = false
            $0.responseTimeout = .seconds(2)
            $0.addressLimit = RateLimit(limit: 100_000, window: 60)
        }
        try await fixture.app.test(.live) { client in
            let port = try #require(client.port)
            let requests = 400
            let (size, received, closed) = try await offPool { () -> (Int, Int, Bool) in
                // One response's size, read by a polite client.
                let polite = try RawConnection(port: port)
                polite.send("GET /openapi.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                let size = polite.receiveUntilClosed(timeout: 10).bytes
                // Hundreds of pipelined requests, and no reading: the responses fill both sockets' buffers.
                let slow = try RawConnection(port: port, receiveBuffer: 4096)
                let request = "GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n"
                slow.send(String(repeating: request, count: requests))
                // Long enough for a debug build on a loaded machine to fill both buffers and then stall
                // past the 2 s deadline (CI once saw 5 s end before the server had stalled that long).
                Thread.sleep(forTimeInterval: 10)
                let (received, closed) = slow.receiveUntilClosed(timeout: 20)
                return (size, received, closed)
            }
            #expect(size > 10_000)
            #expect(closed, "the connection that stopped reading was never closed")
            #expect(received < size * requests, "received \(received) bytes of \(size * requests)")
        }
    }

    @Test func theSignInLimitIsChargedWhenTheBodyArrives() async throws {
        let fixture = try await APIFixture.make {
            $0.tls = false
            $0.bodyTimeout = .seconds(1)
            $0.authAddressLimit = RateLimit(limit: 3, window: 60)
        }
        try await fixture.app.test(.live) { client in
            let port = try #require(client.port)
            let statuses = try await offPool { () -> [String] in
                // Five sign-ins whose bodies never come, held until the body deadline closes them.
                let held = try (0..<5).map { _ in try RawConnection(port: port) }
                for connection in held { connection.send(Self.loginHead(length: 100) + "{") }
                Thread.sleep(forTimeInterval: 2)
                // Then complete ones: the first three are answered (401), the fourth is limited (429).
                let body = Self.login
                return try (0..<4).map { _ in
                    let connection = try RawConnection(port: port)
                    connection.send(Self.loginHead(length: body.utf8.count) + body)
                    return String(connection.receive().prefix(12))
                }
            }
            #expect(statuses == ["HTTP/1.1 401", "HTTP/1.1 401", "HTTP/1.1 401", "HTTP/1.1 429"], "\(statuses)")
        }
    }
}
