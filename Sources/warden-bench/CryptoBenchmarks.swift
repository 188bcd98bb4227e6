import Crypto
import Foundation
@_spi(LegacyWriters) import WardenCrypto

/// Benchmarks of field encryption, the raw primitive, and the legacy readers.
enum CryptoBenchmarks {
    static let sizes = [16, 256, 4096, 65536]
    static let context = "users/email/42"

    static func all(scratch: String) async throws -> [Benchmark] {
        let store = FileKeyringStore(directory: scratch)
        let (masterKey, _) = MasterKey.generate()
        let legacyKeys = try LegacyKeys(
            masterKey: Base64URL.random32(), encryptionKey: Base64URL.random32())
        var configuration = FieldCipher.Configuration()
        configuration.legacyKeys = legacyKeys
        let cipher = try await FieldCipher.load(store: store, masterKey: masterKey, configuration: configuration)
        let rawKey = SymmetricKey(size: .bits256)
        let aad = Array(repeating: UInt8(7), count: 6 + context.utf8.count)

        var benchmarks: [Benchmark] = []
        for size in sizes {
            let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })
            let rawBox = try AES.GCM.seal(plaintext, using: rawKey, authenticating: aad)
            let envelope = try await cipher.seal(plaintext, context: context)
            benchmarks.append(
                Benchmark(name: "aesgcm.raw.seal", size: size, unit: .opsPerSecond) { n in
                    for _ in 0..<n { blackHole(try AES.GCM.seal(plaintext, using: rawKey, authenticating: aad)) }
                })
            benchmarks.append(
                Benchmark(name: "aesgcm.raw.open", size: size, unit: .opsPerSecond) { n in
                    for _ in 0..<n { blackHole(try AES.GCM.open(rawBox, using: rawKey, authenticating: aad)) }
                })
            benchmarks.append(
                Benchmark(name: "field.seal", size: size, unit: .opsPerSecond) { n in
                    for _ in 0..<n { blackHole(try await cipher.seal(plaintext, context: context)) }
                })
            benchmarks.append(
                Benchmark(name: "field.open", size: size, unit: .opsPerSecond) { n in
                    for _ in 0..<n { blackHole(try cipher.open(envelope, context: context)) }
                })
        }

        let plaintext = Data(repeating: 0x61, count: 256)
        let text = try await cipher.seal(plaintext, context: context).text
        benchmarks.append(
            Benchmark(name: "field.seal.text", size: 256, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try await cipher.seal(plaintext, context: context).text) }
            })
        benchmarks.append(
            Benchmark(name: "field.open.text", size: 256, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try cipher.open(text, context: context)) }
            })

        let seedEnvelope = try LegacyWriters.jsonEnvelope(plaintext, version: "v_20250829_120000_0a1b2c3d", keys: legacyKeys)
        _ = try cipher.open(seedEnvelope, context: context)  // derives and caches the version key
        benchmarks.append(
            Benchmark(name: "legacy.seed.open", size: 256, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try cipher.open(seedEnvelope, context: context)) }
            })
        let token = try LegacyWriters.fernetToken(
            plaintext, keys: legacyKeys, timestamp: UInt64(Date().timeIntervalSince1970), iv: Array(repeating: 1, count: 16))
        benchmarks.append(
            Benchmark(name: "legacy.fernet.open", size: 256, unit: .opsPerSecond) { n in
                for _ in 0..<n { blackHole(try cipher.open(token, context: context)) }
            })
        return benchmarks
    }
}

enum Base64URL {
    static func random32() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

@inline(never) func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
