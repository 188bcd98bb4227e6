public import Foundation
public import NIOCore
import Synchronization
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
    /// Which server instance answers count (see ``requireReplayedInstance()``).
    private let gate = InstanceGate()
    private var admit: RedisClient.Admission { { [gate] in try gate.admit($0) } }

    /// - Parameter prefix: Namespace for every key (default `warden`).
    public init(client: RedisClient, prefix: String = "warden") {
        self.client = client
        self.prefix = prefix
    }

    /// How long a status written through (or read from the database on a miss) is trusted before the
    /// database is asked again.
    static let statusLifetime: Int64 = 15 * 60 * 1000

    /// `p:{<account>}`: the start of every key of the account (one Redis Cluster slot).
    private func base(_ account: String) -> String { "\(prefix):{\(account)}" }
    /// A key of the account: `p:{<account>}:<kind>`, or `p:{<account>}:<kind>:<id>`.
    private func key(_ account: String, _ kind: String, _ id: String? = nil) -> String {
        id.map { "\(base(account)):\(kind):\($0)" } ?? "\(base(account)):\(kind)"
    }
    private func account(_ id: UUID) -> String { id.lowercasedText }

    public func create(_ session: SessionRecord, limit: Int, whenFull: SessionPolicy.WhenFull, now: Date) async throws -> [String] {
        let account = account(session.accountID)
        do {
            let reply = try await client.run(
                SessionScripts.create, keys: [key(account, "s", session.idHash), key(account, "as")],
                arguments: [
                    RedisArgument(now.ms), RedisArgument(limit), RedisArgument(whenFull.rawValue), RedisArgument(session.idHash), RedisArgument(account),
                    RedisArgument(session.device.userAgent), RedisArgument(session.device.address), RedisArgument(session.device.fingerprint),
                    RedisArgument(session.created.ms), RedisArgument(Int64(session.idleTimeout * 1000)), RedisArgument(session.absoluteExpiry.ms),
                    RedisArgument(session.level.rawValue), RedisArgument(session.refreshTokenID), RedisArgument(base(account)),
                ],
                // Gated like every check: a session created in a restarted or rolled-back Redis before the
                // ledger is replayed into it would be dated against the old watermark and then ended by the
                // replay (found by scripts/chaos.sh: logins just after a rollback, refused at first use).
                admitting: admit)
            return reply.elements?.compactMap(\.string) ?? []
        } catch let error as RedisError where error.code == .server && error.message.hasPrefix("LIMIT") {
            throw SessionError(.limitReached, "the account has the maximum number of sessions")
        }
    }

    public func requireReplayedInstance() { gate.arm() }
    /// `id` lists every server's `run_id` (a cluster's primaries), as ``instanceID()`` gave it.
    public func trustInstance(_ id: String) { gate.trust(Set(id.split(separator: ",").map(String.init))) }

    /// The check script without the listing (a session of an account known to be disabled is refused too).
    public func validate(sessionHash: String, accountID: UUID, tokenID: String, now: Date) async throws -> SessionRecord? {
        try await check(sessionHash: sessionHash, accountID: accountID, tokenID: tokenID, now: now, listing: false)?.session
    }

    /// One script: the session's check and touch, the account's status, and (with `listing`) the
    /// account's live sessions.
    public func check(sessionHash: String, accountID: UUID, tokenID: String, now: Date, listing: Bool) async throws -> SessionCheck? {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.check,
            keys: [key(account, "s", sessionHash), key(account, "rt", tokenID), key(account, "wm"), key(account, "as"), key(account, "st")],
            arguments: [RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash), RedisArgument(listing ? "1" : "0"), RedisArgument(base(account))],
            admitting: admit, unparsed: true)
        return Self.check(reply, sessionHash: sessionHash, listing: listing)
    }

    /// The check script's reply — `{status, fields}`, then with the listing `hash, fields` for each live
    /// session — as a ``SessionCheck``; `nil` when the session is not live (the script returned nil).
    ///
    /// The reply usually arrives unparsed (``RESPValue/frame(_:)``) and is read straight from its bytes:
    /// on every authenticated request, building a value per field and a slice per bulk string cost more
    /// than the rest of reading it. A reply of any other shape is parsed in full and read below, with the
    /// same result.
    static func check(_ reply: RESPValue, sessionHash: String, listing: Bool) -> SessionCheck? {
        if case .frame(let bytes) = reply {
            if let read = CheckReader.read(bytes, sessionHash: sessionHash, listing: listing) { return read.check }
            var copy = bytes
            var parser = RESPParser()
            // Unreadable even so: the session is not taken as live.
            guard let value = try? parser.parse(&copy) else { return nil }
            return check(value, sessionHash: sessionHash, listing: listing)
        }
        guard let values = reply.elements, values.count >= 2, let fields = values[1].elements, let session = Self.session(hash: sessionHash, fields) else { return nil }
        let status = values[0].string ?? ""
        var listed: [SessionRecord]?
        if listing {
            var records: [SessionRecord] = []
            records.reserveCapacity((values.count - 2) / 2)
            var index = 2
            while index + 1 < values.count {
                if let hash = values[index].string, let fields = values[index + 1].elements, let record = Self.session(hash: hash, fields) { records.append(record) }
                index += 2
            }
            listed = records.sorted { $0.lastActivity > $1.lastActivity }
        }
        return SessionCheck(session: session, accountActive: status.isEmpty ? nil : status == "active", sessions: listed)
    }

    /// The check script's reply as it arrives, parsed and read as ``check(sessionHash:accountID:tokenID:now:listing:)``
    /// reads it: for `warden-bench` (`redis.reply.listing`), which measures the client's share of an
    /// authenticated listing without the network.
    @_spi(Benchmarks)
    public static func checkReply(_ bytes: ByteBuffer, sessionHash: String) throws -> SessionCheck? {
        var buffer = bytes
        var parser = RESPParser()
        guard let reply = try parser.parse(&buffer, unparsedArrays: true) else { return nil }
        return check(reply, sessionHash: sessionHash, listing: true)
    }

    public func publishAccountStatus(accountID: UUID, active: Bool, onlyIfUnknown: Bool) async throws {
        let account = account(accountID)
        var command: [RedisArgument] = ["SET", RedisArgument(key(account, "st")), RedisArgument(active ? "active" : "disabled"), "PX", RedisArgument(Self.statusLifetime)]
        if onlyIfUnknown { command.append("NX") }
        _ = try await client.send(command)
    }

    public func session(hash: String, accountID: UUID) async throws -> SessionRecord? {
        let reply = try await client.send(["HMGET", RedisArgument(key(account(accountID), "s", hash))] + Self.fieldNames.map { RedisArgument($0) }, admitting: admit)
        return reply.elements.flatMap { Self.session(hash: hash, $0) }.flatMap { $0.accountID == accountID ? $0 : nil }
    }

    public func sessions(accountID: UUID, now: Date) async throws -> [SessionRecord] {
        let account = account(accountID)
        let hashes = try await client.send(["ZRANGE", RedisArgument(key(account, "as")), 0, -1], admitting: admit).elements?.compactMap(\.string) ?? []
        guard !hashes.isEmpty else { return [] }
        let watermark = try await client.send(["GET", RedisArgument(key(account, "wm"))], admitting: admit).int.map { Date(ms: $0) }
        let replies = try await client.pipeline(hashes.map { ["HMGET", RedisArgument(key(account, "s", $0))] + Self.fieldNames.map { RedisArgument($0) } }, admitting: admit)
        return zip(hashes, replies).compactMap { hash, reply in reply.elements.flatMap { Self.session(hash: hash, $0) } }
            .filter { session in session.accountID == accountID && session.isActive(at: now) && watermark.map { session.created > $0 } ?? true }
            .sorted { $0.lastActivity > $1.lastActivity }
    }

    public func revoke(sessionHash: String, accountID: UUID) async throws -> Bool {
        let account = account(accountID)
        return try await client.run(
            SessionScripts.revoke, keys: [key(account, "s", sessionHash), key(account, "as")],
            arguments: [RedisArgument(account), RedisArgument(sessionHash)]
        ).int == 1
    }

    public func revokeAll(accountID: UUID, except: String?, watermark: Date?) async throws -> [String] {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.revokeAll, keys: [key(account, "as"), key(account, "wm")],
            arguments: [RedisArgument(except ?? ""), RedisArgument(watermark.map { String($0.ms) } ?? ""), RedisArgument(base(account))])
        return reply.elements?.compactMap(\.string) ?? []
    }

    public func revokeToken(id: String, accountID: UUID, until: Date) async throws {
        let remaining = max(1, until.ms - Date().ms)
        try await client.send("SET", RedisArgument(key(account(accountID), "rt", id)), "1", "PX", RedisArgument(remaining))
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date) async throws -> RefreshRotation {
        try await rotateRefresh(sessionHash: sessionHash, accountID: accountID, presented: presented, next: next, now: now, reportingStale: false)
    }

    public func rotateRefresh(sessionHash: String, accountID: UUID, presented: String, next: String, now: Date, reportingStale: Bool) async throws -> RefreshRotation {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.rotateRefresh, keys: [key(account, "s", sessionHash), key(account, "wm"), key(account, "as")],
            arguments: [
                RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash), RedisArgument(presented), RedisArgument(next),
                RedisArgument(reportingStale ? "1" : "0"),
            ],
            admitting: admit)
        return Self.rotation(reply, hash: sessionHash, accountID: accountID)
    }

    public func adoptRefresh(sessionHash: String, accountID: UUID, expectedGeneration: Int64, next: String, generation: Int64, now: Date) async throws -> RefreshRotation {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.adoptRefresh, keys: [key(account, "s", sessionHash), key(account, "wm"), key(account, "as")],
            arguments: [
                RedisArgument(now.ms), RedisArgument(account), RedisArgument(sessionHash), RedisArgument(expectedGeneration), RedisArgument(next),
                RedisArgument(generation),
            ])
        return Self.rotation(reply, hash: sessionHash, accountID: accountID)
    }

    public func applyWatermark(accountID: UUID, at: Date) async throws {
        let account = account(accountID)
        _ = try await client.run(
            SessionScripts.applyWatermark, keys: [key(account, "as"), key(account, "wm"), key(account, "st")],
            arguments: [RedisArgument(at.ms), RedisArgument(base(account))])
    }

    /// The ledger's revocations, pipelined (``RedisClient/run(_:concurrency:chunk:)``): a replay of
    /// thousands of revocations takes a few round trips per slot instead of one each, which is what a
    /// request held by the restart gate waits for.
    public func replay(_ revocations: Revocations) async throws {
        var calls: [RedisClient.ScriptCall] = revocations.watermarks.map { accountID, at in
            let account = account(accountID)
            return RedisClient.ScriptCall(
                SessionScripts.applyWatermark, keys: [key(account, "as"), key(account, "wm"), key(account, "st")],
                arguments: [RedisArgument(at.ms), RedisArgument(base(account))])
        }
        calls += revocations.sessions.map { hash, accountID in
            let account = account(accountID)
            return RedisClient.ScriptCall(SessionScripts.revoke, keys: [key(account, "s", hash), key(account, "as")], arguments: [RedisArgument(account), RedisArgument(hash)])
        }
        for reply in try await client.run(calls) {
            if case .error(let message) = reply {
                // A cluster between primaries, or a server that refused a write: the replay is not done.
                throw RedisError(message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") || message.hasPrefix("LOADING") ? .unavailable : .server, message)
            }
        }
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
        try await client.instanceIDs().joined(separator: ",")
    }

    // MARK: Activity

    public func recordLogin(accountID: UUID, device: Device, now: Date, window: TimeInterval) async throws -> LoginActivity {
        let account = account(accountID)
        let reply = try await client.run(
            SessionScripts.recordLogin, keys: [key(account, "dev"), key(account, "ip")],
            arguments: [
                RedisArgument(now.ms), RedisArgument(device.fingerprint), RedisArgument(device.userAgent), RedisArgument(device.address),
                RedisArgument(now.addingTimeInterval(-window).ms),
            ])
        let values = reply.elements ?? []
        return LoginActivity(isNewDevice: values.first?.int == 1, distinctAddresses: Int(values.last?.int ?? 1))
    }

    public func recordFailedLogin(accountID: UUID, now: Date, window: TimeInterval) async throws -> Int {
        let reply = try await client.run(
            SessionScripts.recordFailure, keys: [key(account(accountID), "fail")],
            arguments: [RedisArgument(now.ms), RedisArgument(now.addingTimeInterval(-window).ms), RedisArgument(SessionID.make()), RedisArgument(Int64(window * 1000))])
        return Int(reply.int ?? 1)
    }

    public func devices(accountID: UUID) async throws -> [DeviceSighting] {
        guard case .map(let pairs) = try await client.send("HGETALL", RedisArgument(key(account(accountID), "dev"))) else {
            // RESP2 servers answer a flat array.
            let flat = try await client.send("HGETALL", RedisArgument(key(account(accountID), "dev"))).elements ?? []
            return Self.sightings(stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) })
        }
        return Self.sightings(pairs.map { ($0.key, $0.value) })
    }

    // MARK: Decoding

    static let fieldNames = ["account", "created", "last", "idle", "abs", "level", "ua", "addr", "fp", "refresh"]

    static func session(hash: String, _ values: [RESPValue]) -> SessionRecord? {
        guard values.count == 10, let accountText = values[0].string, let accountID = UUID(text: accountText),
            let created = values[1].int, let last = values[2].int, let idle = values[3].int, let absolute = values[4].int,
            let level = values[5].string.flatMap(AuthenticationLevel.init(rawValue:)),
            let userAgent = values[6].string, let address = values[7].string, let fingerprint = values[8].string, let refresh = values[9].string
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
    /// Milliseconds since 1970, as the scripts store them (``StoredInstant``, to the nearest millisecond).
    var ms: Int64 { StoredInstant(self).milliseconds }
    init(ms: Int64) { self = StoredInstant(milliseconds: ms).date }
}

/// The server instances whose answers about sessions count: once armed, only the instance the
/// revocation ledger was last replayed into.
final class InstanceGate: Sendable {
    private let state = Mutex<(armed: Bool, trusted: Set<String>)>((false, []))

    func arm() { state.withLock { $0.armed = true } }
    func trust(_ instances: Set<String>) { state.withLock { $0.trusted = instances } }

    func admit(_ instance: String) throws(SessionError) {
        let (armed, trusted) = state.withLock { ($0.armed, $0.trusted.contains(instance)) }
        guard !armed || trusted else {
            throw SessionError(.notReplayed, "Redis is an instance the revocation ledger has not been replayed into")
        }
    }
}

/// Reads the check script's reply in place: `*n`, the status (a bulk string or null), the current
/// session's ten fields, then with the listing a hash and ten fields for each live session. The bytes were
/// checked by ``RESPParser`` already (every line ends in CRLF, lengths are canonical and within the
/// reply); every read is still bounds-checked. Anything but that shape (another field count, another type
/// where a string is expected) gives `nil`, and the caller parses the reply in full instead.
struct CheckReader {
    struct Read {
        let check: SessionCheck?
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func read(_ frame: ByteBuffer, sessionHash: String, listing: Bool) -> Read? {
        frame.withUnsafeReadableBytes { bytes in
            var reader = CheckReader(bytes)
            return reader.check(sessionHash: sessionHash, listing: listing)
        }
    }

    private mutating func check(sessionHash: String, listing: Bool) -> Read? {
        guard let count = header(UInt8(ascii: "*")), count >= 2, let status = bulk(), header(UInt8(ascii: "*")) == 10,
            let current = fields(hash: sessionHash)
        else { return nil }
        guard let session = current else { return Read(check: nil) }
        var listed: [SessionRecord]?
        if listing {
            var records: [SessionRecord] = []
            records.reserveCapacity((count - 2) / 2)
            var remaining = count - 2
            while remaining >= 2 {
                guard let hash = bulk(), header(UInt8(ascii: "*")) == 10 else { return nil }
                guard let hashBytes = hash else {
                    // No hash: the session is left out, as the parsed reading leaves it out.
                    guard skipFields() else { return nil }
                    remaining -= 2
                    continue
                }
                guard let record = fields(hash: String(decoding: hashBytes, as: UTF8.self)) else { return nil }
                if let record { records.append(record) }
                remaining -= 2
            }
            listed = records.sorted { $0.lastActivity > $1.lastActivity }
        }
        let text = status.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Read(check: SessionCheck(session: session, accountActive: text.isEmpty ? nil : text == "active", sessions: listed))
    }

    /// Ten fields (`SessionScripts.fields`) as a session: `.some(nil)` when they do not make one (a null,
    /// a number or level that does not read), `nil` when they are not ten strings or nulls.
    private mutating func fields(hash: String) -> SessionRecord?? {
        guard let account = bulk(), let created = bulk(), let last = bulk(), let idle = bulk(), let absolute = bulk(), let level = bulk(),
            let userAgent = bulk(), let address = bulk(), let fingerprint = bulk(), let refresh = bulk()
        else { return nil }
        guard let account, let accountID = UUID(utf8: account), let created = created.flatMap(Self.integer), let last = last.flatMap(Self.integer),
            let idle = idle.flatMap(Self.integer), let absolute = absolute.flatMap(Self.integer),
            let level = level.flatMap({ AuthenticationLevel(rawValue: String(decoding: $0, as: UTF8.self)) }), let userAgent, let address,
            let fingerprint, let refresh
        else { return .some(nil) }
        return SessionRecord(
            idHash: hash, accountID: accountID,
            device: Device(
                userAgent: String(decoding: userAgent, as: UTF8.self), address: String(decoding: address, as: UTF8.self),
                fingerprint: String(decoding: fingerprint, as: UTF8.self)),
            created: Date(ms: created), lastActivity: Date(ms: last), idleTimeout: TimeInterval(idle) / 1000, absoluteExpiry: Date(ms: absolute),
            level: level, refreshTokenID: String(decoding: refresh, as: UTF8.self))
    }

    private mutating func skipFields() -> Bool {
        for _ in 0..<10 {
            guard bulk() != nil else { return false }
        }
        return true
    }

    /// A number as `RESPValue.int` reads a bulk string.
    private static func integer(_ digits: UnsafeRawBufferPointer) -> Int64? {
        RESPValue.canonicalInteger(digits) ?? Int64(String(decoding: digits, as: UTF8.self))
    }

    /// The length or count on a header line of `type`, or `nil` (another type, or a negative count).
    private mutating func header(_ type: UInt8) -> Int? {
        guard index < bytes.count, bytes[index] == type else { return nil }
        var end = index + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\r") { end += 1 }
        guard end + 1 < bytes.count, let value = RESPValue.canonicalInteger(UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end])),
            value >= 0, value <= Int64(bytes.count)
        else { return nil }
        index = end + 2
        return Int(value)
    }

    /// A bulk string's bytes; `.some(nil)` for a null (`_`, `$-1`); `nil` for anything else.
    private mutating func bulk() -> UnsafeRawBufferPointer?? {
        guard index + 2 < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "_") {
            index += 3
            return .some(nil)
        }
        if bytes[index] == UInt8(ascii: "$"), bytes[index + 1] == UInt8(ascii: "-"), bytes[index + 2] == UInt8(ascii: "1") {
            index += 5
            return .some(nil)
        }
        guard let length = header(UInt8(ascii: "$")), index + length + 2 <= bytes.count else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)])
        index += length + 2
        return .some(payload)
    }
}
