public import Foundation
import NIOCore
import WardenCore
public import WardenSessions

/// Sessions in Redis, shared by every node. Each check and change is one Lua script: one round trip, and
/// atomic with respect to every other node.
///
/// - Important: Any failure to reach Redis surfaces as ``RedisError`` (code `unavailable`), which
///   ``SessionService`` turns into ``SessionError/Code/unavailable``: fail closed.
public final class RedisSessionStore: SessionStore, ActivityStore {
    let client: RedisClient
    let prefix: String

    /// - Parameter prefix: Namespace for every key (default `warden`).
    public init(client: RedisClient, prefix: String = "warden") {
        self.client = client
        self.prefix = prefix
    }

    private func key(_ kind: String, _ id: String) -> String { "\(prefix):\(kind):\(id)" }
    private func account(_ id: UUID) -> String { id.lowercasedText }

    public func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String] {
        let account = account(session.accountID)
        do {
            let reply = try await client.run(
                SessionScripts.create, keys: [key("s", session.idHash), key("as", account)],
                arguments: [
                    RedisArgument(now.ms), RedisArgument(limit), RedisArgument(whenFull.rawValue), RedisArgument(session.idHash), RedisArgument(account),
                    RedisArgument(session.device.userAgent), RedisArgument(session.device.address), RedisArgument(session.device.fingerprint),
                    RedisArgument(session.created.ms), RedisArgument(Int64(session.idleTimeout * 1000)), RedisArgument(session.absoluteExpiry.ms),
                    RedisArgument(session.level.rawValue), RedisArgument(session.refreshTokenID), RedisArgument(prefix),
                ])
            return reply.elements?.compactMap(\.string) ?? []
        } catch let error as RedisError where error.code == .server && error.message.hasPrefix("LIMIT") {
            throw SessionError(.limitReached, "the account has the maximum number of sessions")
        }
    }

    public func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord? {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.validate,
            keys: [key("s", sessionHash), key("rt", tokenID), key("wm", account), key("as", account)],
            arguments: [RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash)])
        return reply.elements.flatMap { Self.session(hash: sessionHash, $0) }
    }

    public func session(hash: String) async throws -> SessionRecord? {
        let reply = try await client.send(["HMGET", RedisArgument(key("s", hash))] + Self.fieldNames.map { RedisArgument($0) })
        return reply.elements.flatMap { Self.session(hash: hash, $0) }
    }

    public func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord] {
        let account = account(accountID)
        let hashes = try await client.send("ZRANGE", RedisArgument(key("as", account)), 0, -1).elements?.compactMap(\.string) ?? []
        guard !hashes.isEmpty else { return [] }
        let watermark = try await client.send("GET", RedisArgument(key("wm", account))).int.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        let replies = try await client.pipeline(hashes.map { ["HMGET", RedisArgument(key("s", $0))] + Self.fieldNames.map { RedisArgument($0) } })
        return zip(hashes, replies).compactMap { hash, reply in reply.elements.flatMap { Self.session(hash: hash, $0) } }
            .filter { session in session.accountID == accountID && session.isActive(at: now) && watermark.map { session.created > $0 } ?? true }
            .sorted { $0.lastActivity > $1.lastActivity }
    }

    public func revoke(sessionHash: String, accountID: UUID) async throws -> Bool {
        let account = account(accountID)
        return try await client.run(
            SessionScripts.revoke, keys: [key("s", sessionHash), key("as", account)],
            arguments: [RedisArgument(account), RedisArgument(sessionHash)]).int == 1
    }

    public func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String] {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.revokeAll, keys: [key("as", account), key("wm", account)],
            arguments: [RedisArgument(except ?? ""), RedisArgument(watermark.map { String($0.ms) } ?? ""), RedisArgument(prefix)])
        return reply.elements?.compactMap(\.string) ?? []
    }

    public func revokeToken(id: String, until: Date) async throws {
        let remaining = max(1, until.ms - Date().ms)
        try await client.send("SET", RedisArgument(key("rt", id)), "1", "PX", RedisArgument(remaining))
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation {
        try await rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now, reportingStale: false)
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date, reportingStale: Bool) async throws -> RefreshRotation {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.rotateRefresh, keys: [key("s", sessionHash), key("wm", account), key("as", account)],
            arguments: [
                RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash), RedisArgument(presented), RedisArgument(next),
                RedisArgument(reportingStale ? "1" : "0"),
            ])
        return Self.rotation(reply, hash: sessionHash, accountID: accountID)
    }

    public func adoptRefresh(sessionHash: String, accountID: UUID, expectedGeneration: Int64, next: String, generation: Int64, now: Date) async throws -> RefreshRotation {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.adoptRefresh, keys: [key("s", sessionHash), key("wm", account), key("as", account)],
            arguments: [
                RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash), RedisArgument(expectedGeneration), RedisArgument(next),
                RedisArgument(generation),
            ])
        return Self.rotation(reply, hash: sessionHash, accountID: accountID)
    }

    public func applyWatermark(accountID: UUID, at: Date) async throws {
        let account = account(accountID)
        _ = try await client.run(
            SessionScripts.applyWatermark, keys: [key("as", account), key("wm", account)], arguments: [RedisArgument(at.ms), RedisArgument(prefix)])
    }

    /// Reads a rotation script's reply: {'rotated', generation, fields...}, {'reused'}, {'stale', generation} or nil.
    static func rotation(_ reply: RESPValue, hash: String, accountID: UUID) -> RefreshRotation {
        guard let elements = reply.elements, let outcome = elements.first?.string else { return .invalid }
        switch outcome {
        case "reused": return .reused(accountID: accountID)
        case "stale": return .stale(generation: elements.dropFirst().first?.int ?? 0)
        default:
            guard elements.count > 2, let generation = elements[1].int, var session = Self.session(hash: hash, Array(elements.dropFirst(2))) else { return .invalid }
            session.refreshGeneration = generation
            return .rotated(session)
        }
    }

    /// The server's `run_id`, new at every restart.
    public func instanceID() async throws -> String {
        let info = try await client.send("INFO", "server").string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("run_id:") }
        return line.map { String($0.dropFirst("run_id:".count)) } ?? ""
    }

    // MARK: Activity

    public func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) async throws -> LoginActivity {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.recordLogin, keys: [key("dev", account), key("ip", account)],
            arguments: [
                RedisArgument(now.ms), RedisArgument(device.fingerprint), RedisArgument(device.userAgent), RedisArgument(device.address),
                RedisArgument(now.addingTimeInterval(-window).ms),
            ])
        let values = reply.elements ?? []
        return LoginActivity(isNewDevice: values.first?.int == 1, distinctAddresses: Int(values.last?.int ?? 1))
    }

    public func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) async throws -> Int {
        let reply = try await client.run(
            SessionScripts.recordFailure, keys: [key("fail", account(accountID))],
            arguments: [RedisArgument(now.ms), RedisArgument(now.addingTimeInterval(-window).ms), RedisArgument(SessionID.make()), RedisArgument(Int64(window * 1000))])
        return Int(reply.int ?? 1)
    }

    public func devices(accountID: UUID) async throws -> [DeviceSighting] {
        guard case .map(let pairs) = try await client.send("HGETALL", RedisArgument(key("dev", account(accountID)))) else {
            // RESP2 servers answer a flat array.
            let flat = try await client.send("HGETALL", RedisArgument(key("dev", account(accountID)))).elements ?? []
            return Self.sightings(stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) })
        }
        return Self.sightings(pairs.map { ($0.key, $0.value) })
    }

    // MARK: Decoding

    static let fieldNames = ["account", "created", "last", "idle", "abs", "level", "ua", "addr", "fp", "refresh"]

    static func session(hash: String, _ values: [RESPValue]) -> SessionRecord? {
        let strings = values.map(\.string)
        guard strings.count == 10, let accountText = strings[0], let accountID = UUID(text: accountText),
              let created = values[1].int, let last = values[2].int, let idle = values[3].int, let absolute = values[4].int,
              let level = strings[5].flatMap(AuthenticationLevel.init(rawValue:)),
              let userAgent = strings[6], let address = strings[7], let fingerprint = strings[8], let refresh = strings[9]
        else { return nil }
        return SessionRecord(
            idHash: hash, accountID: accountID, device: Device(userAgent: userAgent, address: address, fingerprint: fingerprint),
            created: Date(ms: created), lastActivity: Date(ms: last), idleTimeout: TimeInterval(idle) / 1000, absoluteExpiry: Date(ms: absolute),
            level: level, refreshTokenID: refresh)
    }

    static func sightings(_ pairs: [(RESPValue, RESPValue)]) -> [DeviceSighting] {
        pairs.compactMap { key, value -> DeviceSighting? in
            guard let fingerprint = key.string, let json = value.string,
                  let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let first = (object["first"] as? NSNumber)?.int64Value, let last = (object["last"] as? NSNumber)?.int64Value
            else { return nil }
            return DeviceSighting(fingerprint: fingerprint, userAgent: object["ua"] as? String ?? "", firstSeen: Date(ms: first), lastSeen: Date(ms: last))
        }.sorted { $0.lastSeen > $1.lastSeen }
    }
}

extension Date {
    var ms: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }
}
