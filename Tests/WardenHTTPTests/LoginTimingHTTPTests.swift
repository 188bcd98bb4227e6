import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import Testing
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenHTTP

/// Over a real socket and at production scrypt parameters, a login refused for a wrong password, an
/// unknown username, a disabled account or an account under a password lock gets the same answer in the
/// same time, so the login route cannot be used to learn which usernames exist or what state they are in.
///
/// `scripts/test.sh` runs this suite on its own, after the rest: with the other suites running in
/// parallel on two cores, their load would fall unevenly on the four kinds of attempt.
@Suite(.serialized)
struct LoginTimingHTTPTests {
    /// The four refusals that must be indistinguishable.
    enum Attempt: Int, CaseIterable, CustomStringConvertible {
        case wrongPassword, unknownUser, disabledAccount, lockedAccount

        static let password = "correct horse battery staple"

        var username: String {
            switch self {
            case .wrongPassword: "ada"
            case .unknownUser: "nobody"
            case .disabledAccount: "bob"
            case .lockedAccount: "carol"
            }
        }

        /// The right password for the disabled and the locked account: even it must be refused alike.
        var password: String { self == .wrongPassword ? "not the right passphrase" : Self.password }

        var description: String {
            switch self {
            case .wrongPassword: "wrong password"
            case .unknownUser: "unknown user"
            case .disabledAccount: "disabled account"
            case .lockedAccount: "locked account"
            }
        }
    }

    /// What a client sees of an answer, apart from its timing: status, headers and body, without the
    /// per-request `request_id` (body and `X-Request-ID` header) and `Date`.
    struct Shape: Hashable, CustomStringConvertible {
        let status: Int
        let headers: [String]
        let body: String
        var description: String { "\(status) \(headers) \(body)" }
    }

    /// One interleaved measurement: durations in seconds by attempt (the i-th of each taken in the same
    /// round, within seconds of each other), and every answer's shape.
    struct Measurement {
        var seconds: [[Double]] = Array(repeating: [], count: Attempt.allCases.count)
        var shapes: [Set<Shape>] = Array(repeating: [], count: Attempt.allCases.count)

        var medians: [Double] { seconds.map(Self.median) }

        /// How far each attempt is from the wrong password, as a fraction of it: the median over the rounds
        /// of the attempt's time divided by the wrong password's in the same round, less one. Pairing by
        /// round takes out the machine's drift (a shared machine's speed changes by tens of percent over
        /// the two minutes of a measurement, and the medians of whole columns moved by up to 10% with it,
        /// either way), while a difference in the work of one kind of refusal shows in every round.
        var deviations: [Double] {
            let reference = seconds[Attempt.wrongPassword.rawValue]
            return seconds.map { column in
                abs(Self.median(zip(column, reference).map { $0 / $1 }) - 1)
            }
        }

        var isEqualised: Bool { deviations.allSatisfy { $0 < LoginTimingHTTPTests.bound } }

        var report: String {
            zip(Attempt.allCases, zip(medians, deviations)).map { attempt, value in
                "\(attempt): median \(String(format: "%.1f", value.0 * 1000)) ms (paired \(String(format: "%.2f", value.1 * 100))%)"
            }.joined(separator: ", ")
        }

        static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    }

    /// The largest paired difference allowed, as a fraction of the wrong password's time.
    static let bound = 0.05
    /// Rounds per measurement; each round sends every attempt once, and every kind comes at each place in
    /// the round equally often. Paired by round, 16 rounds hold the noise well under the bound (25 did
    /// when the medians were taken of whole columns; a debug build's scrypt at production parameters
    /// takes 1.3-3.5 s, so each round saved is 5-14 s of CI).
    static let rounds = 16

    @Test func refusedLoginsTakeTheSameTimeAndGetTheSameAnswerOverHTTP() async throws {
        var accountConfiguration = AccountService.Configuration()
        // The wrong-password samples must not lock "ada" themselves; "carol" is locked directly below.
        accountConfiguration.loginPolicy = LoginPolicy(lockThreshold: 1_000_000)
        let production = PasswordHasher().parameters
        let fixture = try await APIFixture.make(passwords: production, accountConfiguration: accountConfiguration) {
            // Rate limits raised so that no attempt is answered 429 instead of being checked.
            let unlimited = RateLimit(limit: 1_000_000, window: 60)
            $0.addressLimit = unlimited
            $0.authAddressLimit = unlimited
            $0.accountLoginLimit = unlimited
        }
        try await fixture.account("ada")
        let bob = try await fixture.account("bob")
        _ = try await fixture.accounts.setStatus(id: bob.id, to: .disabled, context: AuditContext(actor: "test"))
        let carol = try await fixture.account("carol")
        // A password lock as the login policy starts one: failures counted, locked for the next 15 minutes.
        _ = try await fixture.directory.update(id: carol.id) { account in
            account.failedLogins = 10
            account.lockedUntil = Date().addingTimeInterval(15 * 60)
            return []
        }

        // Without the per-request log lines: the same for every attempt, but a hundred of them a minute.
        var logger = Logger(label: "warden.timing")
        logger.logLevel = .warning
        let app = Application(router: fixture.api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        try await app.test(.live) { client async throws in
            // The accounts are what they should be: ada logs in with her password, bob and carol do not.
            #expect(try await client.json(.post, "/auth/login", ["username": "ada", "password": Attempt.password]).status == .ok)
            for attempt in [Attempt.disabledAccount, .lockedAccount] {
                #expect(try await client.json(.post, "/auth/login", ["username": attempt.username, "password": attempt.password]).status == .unauthorized)
            }

            // Warm-up (first connections, lazily built state, the hasher's threads): only its answers count.
            var shapes = try await measure(client, rounds: 2).shapes
            var measurement = try await measure(client, rounds: Self.rounds)
            print("LoginTimingHTTPTests (scrypt \(production)): \(measurement.report)")
            if !measurement.isEqualised {
                // A burst of load on a shared machine can fall on one kind more than another; measure once
                // more before failing (the bound stays the same, and the first answers still count).
                shapes = zip(shapes, measurement.shapes).map { $0.union($1) }
                measurement = try await measure(client, rounds: Self.rounds)
                print("LoginTimingHTTPTests, second measurement: \(measurement.report)")
            }
            shapes = zip(shapes, measurement.shapes).map { $0.union($1) }

            for attempt in Attempt.allCases {
                #expect(measurement.deviations[attempt.rawValue] < Self.bound, "\(attempt) vs wrong password: \(measurement.report)")
                #expect(shapes[attempt.rawValue].count == 1, "\(attempt) answered in different ways: \(shapes[attempt.rawValue])")
            }
            let answers = shapes.reduce(into: Set<Shape>()) { $0.formUnion($1) }
            #expect(answers.count == 1, "the four refusals differ: \(answers)")
            #expect(answers.first?.status == 401)
            #expect(answers.first?.body.contains("invalid_credentials") == true, "\(answers)")
        }

        // Each kind of attempt took the path it was meant to (the audit log records the reason).
        let reasons = fixture.audit.events.filter { $0.action == "login.failed" }.compactMap { $0.details["reason"] }
        for reason in ["wrong_password", "unknown_user", "disabled", "locked"] {
            #expect(reasons.filter { $0 == reason }.count >= Self.rounds, "\(reason): \(reasons.filter { $0 == reason }.count)")
        }
    }

    /// Sends every attempt once per round, in an order that rotates each round, so that changes in the
    /// machine's load fall on the four alike.
    func measure(_ client: some TestClientProtocol, rounds: Int) async throws -> Measurement {
        var measurement = Measurement()
        let clock = ContinuousClock()
        let kinds = Attempt.allCases.count
        for round in 0..<rounds {
            for position in 0..<kinds {
                let attempt = Attempt(rawValue: (round + position) % kinds)!
                let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["username": attempt.username, "password": attempt.password]))
                let started = clock.now
                let (status, headers, answer) = try await client.execute(
                    uri: "/auth/login", method: .post, headers: [.contentType: "application/json"], body: body
                ) { response in (response.status, response.headers, response.body) }
                let elapsed = clock.now - started
                measurement.seconds[attempt.rawValue].append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                measurement.shapes[attempt.rawValue].insert(try Self.shape(status, headers, answer))
            }
        }
        return measurement
    }

    static func shape(_ status: HTTPResponse.Status, _ headers: HTTPFields, _ body: ByteBuffer) throws -> Shape {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        #expect((object.removeValue(forKey: "request_id") as? String)?.isEmpty == false, "no request_id")
        let canonical = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let requestID = HTTPField.Name("X-Request-ID")!
        let fields = headers.filter { $0.name != .date && $0.name != requestID }.map { "\($0.name.canonicalName): \($0.value)" }
        return Shape(status: Int(status.code), headers: fields.sorted(), body: String(decoding: canonical, as: UTF8.self))
    }
}
