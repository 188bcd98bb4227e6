import Crypto
import CryptoExtras
import Foundation
import Synchronization
import Testing
import WardenCore
import WardenTestSupport

@testable import WardenCrypto

/// scrypt password hashes: the primitive's vectors, the stored format, bounds, and where hashing runs.
struct PasswordHasherTests {
    /// RFC 7914 §12 (the 2^20 case needs 1 GiB and is left out).
    static let rfc7914: [(password: String, salt: String, n: Int, r: Int, p: Int, hex: String)] = [
        (
            "", "", 16, 1, 1,
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        ),
        (
            "password", "NaCl", 1024, 8, 16,
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        ),
        (
            "pleaseletmein", "SodiumChloride", 16384, 8, 1,
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
        ),
    ]

    @Test(arguments: 0..<rfc7914.count)
    func scryptRFC7914(_ index: Int) throws {
        let vector = Self.rfc7914[index]
        let key = try KDF.Scrypt.deriveKey(
            from: Array(vector.password.utf8), salt: Array(vector.salt.utf8), outputByteCount: 64,
            rounds: vector.n, blockSize: vector.r, parallelism: vector.p, maxMemory: 128 * vector.r * vector.n * vector.p + (1 << 20))
        #expect(key.withUnsafeBytes { Array($0) } == [UInt8](hex: vector.hex))
    }

    let hasher = PasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1))

    @Test func hashesAreSelfDescribingAndSalted() async throws {
        let first = try await hasher.hash("correct horse battery staple")
        let second = try await hasher.hash("correct horse battery staple")
        #expect(first.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(first != second)
        guard case .scrypt(let parameters, let salt, let hash)? = PasswordHash(first) else {
            Issue.record("unparsable: \(first)")
            return
        }
        #expect(parameters == ScryptParameters(logN: 10, blockSize: 8, parallelism: 1))
        #expect(salt.count == 16)
        #expect(hash.count == 32)
        #expect(PasswordHash(first)?.string == first)
        // The stored hash is scrypt of the NFKC form, as documented.
        let expected = try PasswordHasher.scrypt("correct horse battery staple", salt: salt, parameters: parameters, length: 32)
        #expect(expected == hash)
    }

    @Test func verification() async throws {
        let stored = try await hasher.hash("correct horse battery staple")
        #expect(try await hasher.verify("correct horse battery staple", against: stored) == .valid(needsRehash: false))
        #expect(try await hasher.verify("correct horse battery stapl", against: stored) == .invalid)
        #expect(try await hasher.verify("", against: stored) == .invalid)
        // Other parameters verify but ask for a rehash.
        let stronger = PasswordHasher(parameters: ScryptParameters(logN: 11, blockSize: 8, parallelism: 1))
        #expect(try await stronger.verify("correct horse battery staple", against: stored) == .valid(needsRehash: true))
    }

    @Test func theSamePasswordTypedDifferentlyVerifies() async throws {
        // "é" precomposed and decomposed, and full-width letters: NFKC makes them one.
        let stored = try await hasher.hash("caf\u{E9} ＰＡＳＳＷＯＲＤ")
        #expect(try await hasher.verify("cafe\u{301} PASSWORD", against: stored) == .valid(needsRehash: false))
    }

    @Test(arguments: [
        "", "plaintext", "$scrypt$ln=10,r=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", "$scrypt$ln=20,r=32,p=16$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0==$aGFzaGhhc2hoYXNoaGFzaA", "$bcrypt$2b$10$abcdefghijklmnopqrstuv",
        "$aivillage-pbkdf2-sha256$i=100000$c2FsdA$" + String(repeating: "zz", count: 32),
        "$aivillage-pbkdf2-sha256$i=10$c2FsdA$" + String(repeating: "00", count: 32),
    ])
    func malformedOrUnboundedHashesNeverVerify(_ stored: String) async throws {
        #expect(PasswordHash(stored) == nil)
        #expect(try await hasher.verify("anything", against: stored) == .invalid)
    }

    @Test func legacyHashesFromPythonVerify() async throws {
        let (_, output, _) = try await runProcess(
            "/usr/bin/env", ["python3", "-c", "import hashlib; print(hashlib.pbkdf2_hmac('sha256', 'pässwörd 🔑'.encode(), b'Xy9salt', 100000).hex())"])
        let digest = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let hash = try #require(PasswordHash.legacy(salt: "Xy9salt", hexDigest: digest))
        #expect(try await hasher.verify("pässwörd 🔑", against: hash.string) == .valid(needsRehash: true))
        #expect(try await hasher.verify("pässwörd 🔑 ", against: hash.string) == .invalid)
        #expect(PasswordHash(hash.string) == hash)
    }

    @Test func blockingWorkLeavesTheCooperativePoolFree() async throws {
        // Eight jobs block their threads (more than the cooperative pool has on this machine). On the
        // cooperative pool, or on Dispatch (which shares its threads on Linux), nothing else could run
        // until they were released; on the hasher's own threads a cooperative task finishes meanwhile.
        let threads = WorkerThreads(count: 8, name: "test-blocking")
        let gate = DispatchSemaphore(value: 0)
        let (finishedWhileBlocked, results) = try await poolStaysFree(8, gate: gate) { _ in
            try await threads.run {
                gate.wait()
                return "done"
            }
        }
        #expect(finishedWhileBlocked)
        #expect(results == Array(repeating: "done", count: 8))
    }

    @Test func manyHashesAtOnceAllComplete() async throws {
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<12 { group.addTask { try await hasher.hash("passphrase number \(index)") } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(results).count == 12)
    }
}
