import Crypto
import Dispatch
import Foundation
import Synchronization
import Testing
import WardenCore

@_spi(LegacyWriters) @testable import WardenCrypto

/// Reading the original system's data: strict detection, key handling, and the defects not repeated.
struct LegacyTests {
    static let master = Base64.encode([UInt8](repeating: 0x11, count: 32), alphabet: .url)
    static let encryption = Base64.encode((0..<32).map { UInt8($0) }, alphabet: .url)
    static let version = "v_20250829_120000_0a1b2c3d"

    func fixture(allowedVersions: Set<String>? = nil, ttl: TimeInterval? = nil) async throws -> CipherFixture {
        try await CipherFixture.make(
            legacyKeys: LegacyKeys(
                masterKey: Self.master, encryptionKey: Self.encryption, allowedVersions: allowedVersions, fernetTimeToLive: ttl))
    }

    @Test(arguments: [
        "v_20250829_120000_0a1b2c3d", "v_20240229_235959_ffffffff", "v_20000101_000000_00000000",
        // The original's documentation shows 4 hex digits.
        "v_20240827_140523_a1b2", "v_20240229_235959_ffff",
    ])
    func versionsInTheOriginalPatternAreAccepted(_ version: String) {
        #expect(LegacyJSONEnvelope.versionIsValid(version))
    }

    @Test(arguments: [
        "", "v1", "anything", "v_20250829_120000_0a1", "v_20250829_120000_0a1b2", "v_20250829_120000_0a1b2c",
        "v_20250829_120000_0a1b2c3", "v_20250829_120000_0A1B", "v_20250829_120000_0a1g", "v_20250230_120000_0a1b",
        "v_20250829_120000_", "v_20250829_120000_0A1B2C3D", "v_20251329_120000_0a1b2c3d",
        "v_20250230_120000_0a1b2c3d", "v_20230229_120000_0a1b2c3d", "v_20250829_240000_0a1b2c3d", "v_20250829_126000_0a1b2c3d",
        "v_2025082_9120000_0a1b2c3d", "x_20250829_120000_0a1b2c3d", "v_20250829_120000_0a1b2c3g", "v_20250829_120000_0a1b2c3d0",
        "v_20250829-120000_0a1b2c3d", "v_１２３４0829_120000_0a1b2c3d",
    ])
    func otherVersionsAreRefusedBeforeAnyDerivation(_ version: String) {
        #expect(!LegacyJSONEnvelope.versionIsValid(version))
    }

    @Test func anInventedVersionIsRefusedNotDerived() async throws {
        let fixture = try await fixture()
        let keys = try LegacyKeys(masterKey: Self.master)
        let forged = try LegacyWriters.jsonEnvelope(Data("x".utf8), version: "attacker-chosen", keys: keys)
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(forged, context: "c") }
        #expect(fixture.failures.all.last?.reason == .invalidLegacyVersion)
    }

    @Test func theAllowListLimitsVersions() async throws {
        let keys = try LegacyKeys(masterKey: Self.master)
        let envelope = try LegacyWriters.jsonEnvelope(Data("x".utf8), version: Self.version, keys: keys)
        let allowed = try await fixture(allowedVersions: [Self.version])
        #expect(try allowed.cipher.open(envelope, context: "c").plaintext == Data("x".utf8))
        let other = try await fixture(allowedVersions: ["v_20250101_000000_00000000"])
        #expect(throws: WardenCryptoError.decryptionFailed) { try other.cipher.open(envelope, context: "c") }
        #expect(other.failures.all.last?.reason == .invalidLegacyVersion)
    }

    @Test func jsonEnvelopesAreParsedStrictly() async throws {
        let fixture = try await fixture()
        let keys = try LegacyKeys(masterKey: Self.master)
        let valid = try LegacyWriters.jsonEnvelope(Data("x".utf8), version: Self.version, keys: keys)
        #expect(try fixture.cipher.open(valid, context: "c").source == .legacyJSON(version: Self.version))
        var object = try #require(try JSONSerialization.jsonObject(with: valid) as? [String: String])
        func variant(_ change: (inout [String: Any]) -> Void) throws -> Data {
            var copy: [String: Any] = object
            change(&copy)
            return try JSONSerialization.data(withJSONObject: copy)
        }
        let broken: [Data] = [
            try variant { $0["algorithm"] = "AES-128-GCM" },
            try variant { $0["algorithm"] = nil },
            try variant { $0["extra"] = "field" },
            try variant { $0["iv"] = Base64.encode([UInt8](repeating: 0, count: 16)) },
            try variant { $0["tag"] = Base64.encode([UInt8](repeating: 0, count: 12)) },
            try variant { $0["data"] = "not base64!" },
            try variant { $0["iv"] = 12 },
            Data("{\"version\": ".utf8),
            Data("{}".utf8),
        ]
        for input in broken {
            #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(input, context: "c") }
        }
        // A tampered ciphertext fails authentication.
        let data = try #require(Base64.decode(object["data"]!))
        object["data"] = Base64.encode(data.map { $0 ^ 1 })
        #expect(throws: WardenCryptoError.decryptionFailed) {
            try fixture.cipher.open(try JSONSerialization.data(withJSONObject: object), context: "c")
        }
        #expect(fixture.failures.all.last?.reason == .authenticationFailed)
    }

    @Test func fernetTimeChecks() async throws {
        let keys = try LegacyKeys(encryptionKey: Self.encryption)
        let fixture = try await fixture(ttl: 3600)
        let now = UInt64(fixture.clock.now().timeIntervalSince1970)
        let iv = [UInt8](repeating: 9, count: 16)
        let fresh = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: now - 10, iv: iv)
        #expect(try fixture.cipher.open(fresh, context: "c").source == .legacyFernet)
        let old = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: now - 3601, iv: iv)
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(old, context: "c") }
        #expect(fixture.failures.all.last?.reason == .expired)
        let slightlyAhead = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: now + 60, iv: iv)
        #expect(throws: Never.self) { try fixture.cipher.open(slightlyAhead, context: "c") }
        let farAhead = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: now + 61, iv: iv)
        #expect(throws: WardenCryptoError.decryptionFailed) { try fixture.cipher.open(farAhead, context: "c") }
        #expect(fixture.failures.all.last?.reason == .timestampInFuture)
        // Without a TTL (the original's behaviour) old tokens open; the future bound still applies.
        let noTTL = try await self.fixture()
        #expect(throws: Never.self) { try noTTL.cipher.open(old, context: "c") }
        #expect(throws: WardenCryptoError.decryptionFailed) { try noTTL.cipher.open(farAhead, context: "c") }
    }

    @Test func theHMACDecidesBetweenTheTwoFernetReadings() async throws {
        let keys = try LegacyKeys(encryptionKey: Self.encryption)
        let fixture = try await fixture()
        let now = UInt64(fixture.clock.now().timeIntervalSince1970)
        let iv = [UInt8](repeating: 3, count: 16)
        let raw = try LegacyWriters.fernetToken(Data("{\"data\": \"looks like twin\"}".utf8), keys: keys, timestamp: now, iv: iv)
        let twin = try LegacyWriters.twinFernetToken("ada@example.com", field: "email", keys: keys, timestamp: now, iv: iv)
        let rawOpened = try fixture.cipher.open(raw, context: "c")
        #expect(rawOpened.source == .legacyFernet)
        #expect(rawOpened.plaintext == Data("{\"data\": \"looks like twin\"}".utf8))
        let twinOpened = try fixture.cipher.open(twin, context: "c")
        #expect(twinOpened.source == .legacyTwinFernet)
        #expect(twinOpened.plaintext == Data("ada@example.com".utf8))
        // Every single-character change to a token fails.
        var characters = Array(twin)
        for index in stride(from: 0, to: characters.count - 2, by: 7) {
            let original = characters[index]
            characters[index] = original == "A" ? "B" : "A"
            #expect(throws: WardenCryptoError.self) { try fixture.cipher.open(String(characters), context: "c") }
            characters[index] = original
        }
    }

    @Test func legacyInputWithoutLegacyKeysIsAClearError() async throws {
        let fixture = try await CipherFixture.make()
        let keys = try LegacyKeys(masterKey: Self.master, encryptionKey: Self.encryption)
        let json = try LegacyWriters.jsonEnvelope(Data("x".utf8), version: Self.version, keys: keys)
        let token = try LegacyWriters.fernetToken(Data("x".utf8), keys: keys, timestamp: 1_800_000_000, iv: [UInt8](repeating: 0, count: 16))
        for input in [json, Data(token.utf8)] {
            let error = try #require(throws: WardenCryptoError.self) { try fixture.cipher.open(input, context: "c") }
            #expect(error.code == .legacyKeyMissing)
        }
        // Keys for one legacy format do not open the other.
        let onlyFernet = try await CipherFixture.make(legacyKeys: LegacyKeys(encryptionKey: Self.encryption))
        let error = try #require(throws: WardenCryptoError.self) { try onlyFernet.cipher.open(json, context: "c") }
        #expect(error.code == .legacyKeyMissing)
    }

    @Test func malformedLegacyKeysAreRefusedWithoutEchoingThem() throws {
        let error = try #require(throws: WardenCryptoError.self) { try LegacyKeys(encryptionKey: "c2hvcnQ=") }
        #expect(error.code == .invalidLegacyKey)
        #expect(!error.message.contains("c2hvcnQ="))
        #expect(throws: WardenCryptoError.self) { try LegacyKeys(masterKey: "!!!") }
    }

    @Test func environmentNamesOfTheOriginalAndOfWarden() throws {
        #expect(try LegacyKeys.fromEnvironment([:]) == nil)
        let original = try #require(try LegacyKeys.fromEnvironment(["DIGITAL_TWIN_MASTER_KEY": Self.master]))
        #expect(original.masterKey == Array(repeating: 0x11, count: 32))
        let warden = try #require(
            try LegacyKeys.fromEnvironment([
                "DIGITAL_TWIN_MASTER_KEY": Self.master, "WARDEN_LEGACY_MASTER_KEY": Base64.encode([UInt8](repeating: 0x22, count: 32)),
                "WARDEN_LEGACY_KEY_VERSIONS": "v_20250829_120000_0a1b2c3d, v_20250101_000000_00000000",
            ]))
        #expect(warden.masterKey == Array(repeating: 0x22, count: 32))
        #expect(warden.allowedVersions == ["v_20250829_120000_0a1b2c3d", "v_20250101_000000_00000000"])
    }

    @Test func theVersionKeyCacheIsBounded() throws {
        let reader = LegacyReader(keys: try LegacyKeys(masterKey: Self.master))
        let keys = try LegacyKeys(masterKey: Self.master)
        // Each distinct version costs one derivation; the cache never holds more than its limit.
        for second in 0..<3 {
            let version = "v_20250829_12000\(second)_0a1b2c3d"
            let envelope = try LegacyWriters.jsonEnvelope(Data("x".utf8), version: version, keys: keys)
            guard case .opened = try reader.openJSON(envelope) else {
                Issue.record("did not open")
                continue
            }
        }
        #expect(reader.cachedVersionCount == 3)
        #expect(LegacyReader.versionCacheLimit == 256)
    }

    /// A stand-in for the PBKDF2 derivation: cheap, deterministic, and counted per version.
    final class CountingDerivation: Sendable {
        let counts = Mutex<[String: Int]>([:])

        func derive(_ version: String) -> SymmetricKey? {
            counts.withLock { $0[version, default: 0] += 1 }
            return Self.key(version)
        }

        static func key(_ version: String) -> SymmetricKey {
            SymmetricKey(data: SHA256.hash(data: Data(version.utf8)))
        }
    }

    /// A JSON envelope of "x" under the stand-in key for `version`.
    static func envelope(_ version: String) throws -> Data {
        let box = try AES.GCM.seal(Data("x".utf8), using: CountingDerivation.key(version))
        let json =
            "{\"version\": \"\(version)\", \"iv\": \"\(Base64.encode(Array(box.nonce)))\", \"tag\": \"\(Base64.encode(Array(box.tag)))\", "
            + "\"data\": \"\(Base64.encode(Array(box.ciphertext)))\", \"algorithm\": \"AES-256-GCM\"}"
        return Data(json.utf8)
    }

    static func version(_ number: Int) -> String {
        "v_20250829_120000_" + String(repeating: "0", count: 8 - String(number, radix: 16).count) + String(number, radix: 16)
    }

    /// Many distinct versions (what an attacker cycling through valid-looking ones sends): the cache
    /// stays at its bound without ever being flushed, and a key in use all along is derived once.
    @Test func theVersionKeyCacheEvictsOneEntryAndKeepsAHotKey() async throws {
        let derivation = CountingDerivation()
        let reader = LegacyReader(keys: try LegacyKeys(masterKey: Self.master), deriveVersionKey: { derivation.derive($0) })
        let hot = Self.version(0)
        let hotEnvelope = try Self.envelope(hot)
        var sizes: [Int] = []
        for number in 1...(4 * LegacyReader.versionCacheLimit) {
            guard case .opened = try await reader.openJSONOffPool(hotEnvelope) else {
                Issue.record("hot key did not open")
                return
            }
            guard case .opened = try await reader.openJSONOffPool(try Self.envelope(Self.version(number))) else {
                Issue.record("did not open")
                return
            }
            sizes.append(reader.cachedVersionCount)
        }
        #expect(sizes.allSatisfy { $0 <= LegacyReader.versionCacheLimit })
        // Never flushed: the size only grows, to the bound, and stays there.
        let shrinks = zip(sizes, sizes.dropFirst()).filter { $0.1 < $0.0 }.count
        #expect(shrinks == 0, "the cache shrank \(shrinks) times: it was flushed")
        #expect(reader.cachedVersionCount == LegacyReader.versionCacheLimit)
        let counts = derivation.counts.withLock { $0 }
        #expect(counts[hot] == 1, "the hot key was derived \(counts[hot] ?? 0) times")
        // Each churned version was derived once (evicted, never re-derived while in use).
        #expect(counts.count == 4 * LegacyReader.versionCacheLimit + 1)
        #expect(counts.values.allSatisfy { $0 == 1 })
        // The synchronous path shares the cache and its bound.
        for number in 5000..<5300 { _ = try reader.openJSON(try Self.envelope(Self.version(number))) }
        #expect(reader.cachedVersionCount == LegacyReader.versionCacheLimit)
        guard case .opened = try reader.openJSON(hotEnvelope) else {
            Issue.record("hot key did not open")
            return
        }
    }

    /// The least recently used entry is the one evicted.
    @Test func theCacheEvictsTheLeastRecentlyUsedEntry() {
        var cache = RecentlyUsedCache<String, Int>(capacity: 3)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        cache.insert(3, for: "c")
        #expect(cache.value(for: "a") == 1)  // "b" is now the least recently used
        cache.insert(4, for: "d")
        #expect(cache.count == 3)
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1 && cache.value(for: "c") == 3 && cache.value(for: "d") == 4)
        cache.insert(5, for: "a")  // replacing evicts nothing
        #expect(cache.count == 3 && cache.value(for: "a") == 5)
    }

    /// Eight derivations held on their threads (more than the cooperative pool has here) while a
    /// cooperative task still runs: the derivations are on Warden's worker threads, not on the pool.
    /// (Thread names are not checked: on Linux, Foundation sets them racily and a new thread starts with
    /// its creator's name.)
    @Test func legacyDerivationsLeaveTheCooperativePoolFree() async throws {
        let gate = DispatchSemaphore(value: 0)
        let threadNames = Mutex<[String]>([])
        let keys = try LegacyKeys(masterKey: Self.master)
        let reader = LegacyReader(keys: keys, threads: WorkerThreads(count: 8, name: "test-kdf")) { version in
            threadNames.withLock { $0.append(Thread.current.name ?? "unnamed") }
            gate.wait()
            return CountingDerivation.key(version)
        }
        let envelopes = try (1...8).map { try Self.envelope(Self.version($0)) }
        let (finishedWhileBlocked, results) = try await poolStaysFree(8, gate: gate) { index in
            if case .opened = try await reader.openJSONOffPool(envelopes[index]) { return true }
            return false
        }
        #expect(finishedWhileBlocked)
        #expect(results == Array(repeating: true, count: 8))
        // Every derivation ran, each on a thread of its own (the worker threads; none could have run on
        // the cooperative pool, which the blocked derivations would have filled).
        #expect(threadNames.withLock { $0.count } == 8)
    }

    /// The asynchronous open that servers use takes the off-pool path for both legacy formats.
    @Test func openOffPoolOpensBothLegacyFormats() async throws {
        let fixture = try await fixture()
        let keys = try LegacyKeys(masterKey: Self.master, encryptionKey: Self.encryption)
        let json = String(decoding: try LegacyWriters.jsonEnvelope(Data("j".utf8), version: Self.version, keys: keys), as: UTF8.self)
        #expect(try await fixture.cipher.openOffPool(json, context: "c").source == .legacyJSON(version: Self.version))
        let token = try LegacyWriters.twinFernetToken("t", field: "f", keys: keys, timestamp: UInt64(fixture.clock.now().timeIntervalSince1970), iv: [UInt8](repeating: 7, count: 16))
        let opened = try await fixture.cipher.openOffPool(token, context: "c")
        #expect(opened.source == .legacyTwinFernet && opened.plaintext == Data("t".utf8))
    }
}
