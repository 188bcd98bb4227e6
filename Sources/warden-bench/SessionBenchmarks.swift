import Crypto
import Foundation
import NIOCore
import NIOPosix
import QRCode
import Synchronization
import WardenAudit
import WardenCore
import WardenCrypto
@_spi(Benchmarks) import WardenHTTP
import WardenMFA
@_spi(Benchmarks) import WardenRedis
import WardenSessions

/// Token issue and verification, and the full access-token check against Redis under concurrency.
enum SessionBenchmarks {
    static let concurrency = 50

    static func all(redisURL: String) async throws -> [Benchmark] {
        let masterKey = MasterKey.generate().key
        let cipher = try await FieldCipher.load(store: MemoryKeyringStore(), masterKey: masterKey)
        let policy = SessionPolicy()
        let keys = TokenKeys(store: MemorySigningKeyStore(), cipher: cipher, overlap: policy.refreshTokenLifetime)
        try await keys.load()
        let tokens = TokenService(keys: keys, policy: policy)
        var uncached = TokenService.Configuration()
        uncached.verifiedTokenCacheSize = 0
        let coldTokens = TokenService(keys: keys, configuration: uncached, policy: policy)
        let account = UUID()
        let token = try await tokens.issue(.access, accountID: account, sessionID: SessionID.make(), tokenID: SessionID.make(), level: .password, now: Date())
        let signingKey = Curve25519.Signing.PrivateKey()
        let message = Array(token.utf8.prefix(200))
        let signature = try signingKey.signature(for: message)
        var benchmarks = [
            // For reference: swift-crypto's (BoringSSL's) Ed25519 verification alone, the floor under jwt.verify.
            Benchmark(name: "ed25519.raw.verify", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(signingKey.publicKey.isValidSignature(signature, for: message)) }
            },
            Benchmark(name: "jwt.issue", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n {
                    blackHole(try await tokens.issue(.access, accountID: account, sessionID: "s", tokenID: "t", level: .password, now: Date()))
                }
            },
            // Every verification checks the signature (the verified-token cache is off).
            Benchmark(name: "jwt.verify", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try await coldTokens.verify(token, as: .access)) }
            },
            // The default: a token seen before skips the signature check; claims are still checked.
            Benchmark(name: "jwt.verify.cached", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try await tokens.verify(token, as: .access)) }
            },
        ]
        let totp = try TOTP(secret: Array("12345678901234567890".utf8))
        let verifyAt = Date(timeIntervalSince1970: 1_800_000_000)
        let totpCode = totp.code(at: verifyAt.addingTimeInterval(30))
        benchmarks.append(
            // A 6-digit code of the next step, checked against the window ±1: three HMAC-SHA1s, no storage.
            Benchmark(name: "totp.verify", size: nil, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(totp.match(totpCode, at: verifyAt, window: 1)) }
            })
        let uri = OTPAuthURI.totp(
            secret: Array("12345678901234567890".utf8), issuer: "Warden", account: "ada@example.com", algorithm: .sha1, digits: 6, period: 30)
        benchmarks.append(
            // An otpauth:// URI to a QR code PNG: encode (all eight masks scored) and render.
            Benchmark(name: "qr.png", size: nil, unit: .millisecondsPerOp) { n in
                for _ in 0..<n { blackHole(try QRCode(text: uri, errorCorrection: .medium).png(moduleSize: 6)) }
            })
        // GET /auth/sessions' body for an account with its ten sessions (the default limit).
        let now = Date()
        let sessions = (0..<10).map { index in
            SessionRecord(
                idHash: Hex.encode(SHA256.hash(data: Data("session \(index)".utf8))), accountID: account,
                device: Device(userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.\(index)", address: "203.0.113.\(index)"),
                created: now - 3_600, lastActivity: now - 60, idleTimeout: 1_800, absoluteExpiry: now + 86_400, level: .multiFactor,
                refreshTokenID: "r\(index)")
        }
        benchmarks.append(
            Benchmark(name: "http.json.sessions", size: 10, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(ResponseBenchmarks.sessionListing(sessions, current: sessions[3].idHash)) }
            })
        benchmarks.append(
            Benchmark(name: "http.json.sessions.foundation", size: 10, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(ResponseBenchmarks.sessionListingWithFoundation(sessions, current: sessions[3].idHash)) }
            })
        // The check script's reply for an account with ten live sessions, as Redis sends it: what the
        // client parses and reads on every GET /auth/sessions.
        let reply = checkReply(sessions)
        benchmarks.append(
            Benchmark(name: "redis.reply.listing", size: 10, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try RedisSessionStore.checkReply(reply, sessionHash: sessions[3].idHash)) }
            })
        benchmarks += try await sessionValidate(redisURL: redisURL, tokens: tokens)
        return benchmarks
    }

    /// The bytes of the check script's reply listing `sessions` (status, the current session's fields, then
    /// each session's hash and fields), in RESP.
    static func checkReply(_ sessions: [SessionRecord]) -> ByteBuffer {
        func fields(_ session: SessionRecord) -> [String] {
            [
                session.accountID.lowercasedText, String(Int64(session.created.timeIntervalSince1970 * 1000)),
                String(Int64(session.lastActivity.timeIntervalSince1970 * 1000)), String(Int64(session.idleTimeout * 1000)),
                String(Int64(session.absoluteExpiry.timeIntervalSince1970 * 1000)), session.level.rawValue, session.device.userAgent,
                session.device.address, session.device.fingerprint, SessionID.make(),
            ]
        }
        var text = "*\(2 + 2 * sessions.count)\r\n$6\r\nactive\r\n"
        func array(_ values: [String]) {
            text += "*\(values.count)\r\n"
            for value in values { text += "$\(value.utf8.count)\r\n\(value)\r\n" }
        }
        array(fields(sessions[3]))
        for session in sessions {
            text += "$\(session.idHash.utf8.count)\r\n\(session.idHash)\r\n"
            array(fields(session))
        }
        return ByteBuffer(string: text)
    }

    /// `session.validate`: 50 tasks authenticating access tokens of live sessions held in Redis; and
    /// `session.check.listing`: the same with the account's status and its session listing in the round
    /// trip — all that `GET /auth/sessions` asks of the stores. Skipped, with a message, when Redis cannot
    /// be reached.
    static func sessionValidate(redisURL: String, tokens: TokenService) async throws -> [Benchmark] {
        let client = RedisClient(configuration: try RedisConfiguration(url: redisURL))
        do {
            _ = try await client.send("PING")
        } catch {
            print("session.validate skipped: Redis at \(redisURL) is unreachable (\(error))")
            return []
        }
        let prefix = "warden-bench-\(UUID().uuidString.prefix(8))"
        let store = RedisSessionStore(client: client, prefix: prefix)
        let service = SessionService(store: store, activity: store, tokens: tokens, audit: MemoryAuditLog(chain: AuditChain(key: MasterKey.generate().key.auditKey)))
        let context = AuditContext(actor: "bench")
        var accessTokens: [String] = []
        for index in 0..<200 {
            let device = Device(userAgent: "bench", address: "192.0.2.\(index % 200)")
            let account = UUID()
            accessTokens.append(try await service.start(accountID: account, device: device, level: .password, context: context).accessToken)
            try await service.publishAccountStatus(accountID: account, active: true)
        }
        let pool = accessTokens
        return [
            concurrent("session.validate", pool) { token in blackHole(try await service.authenticate(accessToken: token)) },
            concurrent("session.check.listing", pool) { token in
                let checked = try await service.check(accessToken: token, listing: true)
                guard checked.accountActive == true, checked.sessions?.count == 1 else { throw CancellationError() }
                blackHole(checked)
            },
        ]
    }

    /// `body` on tokens of `pool`, from 50 tasks at once, with per-call latencies.
    static func concurrent(_ name: String, _ pool: [String], _ body: @escaping @Sendable (String) async throws -> Void) -> Benchmark {
        let latencies = Latencies()
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let spread = ProcessInfo.processInfo.environment["WARDEN_BENCH_SPREAD"] != nil
        return Benchmark(name: name, size: nil, unit: .opsPerSecond, concurrency: concurrency, latencies: latencies) { n in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    let count = n / concurrency + (worker < n % concurrency ? 1 : 0)
                    group.addTask {
                        // With WARDEN_BENCH_SPREAD set, the callers start spread over the event loops (a task
                        // stays on the loop that resumes it; started from one task, all share its loop).
                        if spread { try await loops[worker % loops.count].submit {}.get() }
                        let clock = ContinuousClock()
                        var samples: [Duration] = []
                        samples.reserveCapacity(count)
                        for index in 0..<count {
                            let started = clock.now
                            try await body(pool[(worker + index) % pool.count])
                            samples.append(clock.now - started)
                        }
                        latencies.add(samples)
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}

/// Per-operation latencies gathered by a concurrent benchmark; the runner clears them after warm-up.
final class Latencies: Sendable {
    private let samples = Mutex<[Duration]>([])

    func add(_ more: [Duration]) { samples.withLock { $0.append(contentsOf: more) } }
    func reset() { samples.withLock { $0.removeAll(keepingCapacity: true) } }

    /// The `fraction` percentile in microseconds.
    func percentile(_ fraction: Double) -> Double {
        let sorted = samples.withLock { $0.sorted() }
        guard !sorted.isEmpty else { return 0 }
        let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        return Double(value.components.seconds) * 1e6 + Double(value.components.attoseconds) / 1e12
    }
}
