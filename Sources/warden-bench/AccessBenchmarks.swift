import Foundation
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL

/// Password hashing at the default parameters, and a store round trip.
enum AccessBenchmarks {
    static func all(scratch: String, databaseURL: String?) async throws -> [Benchmark] {
        let hasher = PasswordHasher()
        var benchmarks = [
            Benchmark(name: "password.hash", size: nil, unit: .millisecondsPerOp) { n in
                for _ in 0..<n { blackHole(try await hasher.hash("correct horse battery staple")) }
            }
        ]
        let masterKey = MasterKey.generate().key
        let chain = AuditChain(key: masterKey.auditKey)
        var stores: [(String, SQLStore)] = [
            ("store.account.get", try await SQLStore.open(url: nil, sqlitePath: scratch + "/bench.db", auditChain: chain, keyringActor: "bench"))
        ]
        if let databaseURL {
            stores.append(("store.account.get.postgres", try await SQLStore.open(url: databaseURL, sqlitePath: "", auditChain: chain, keyringActor: "bench")))
        }
        for (name, store) in stores {
            let cipher = try await FieldCipher.load(store: store, masterKey: masterKey)
            let accounts = AccountService(
                store: store, hasher: PasswordHasher(parameters: ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)), cipher: cipher)
            let username = "bench-\(UUID().uuidString.prefix(8))"
            let account = try await accounts.create(username: username, email: "bench@example.com", context: AuditContext(actor: "bench"))
            benchmarks.append(
                Benchmark(name: name, size: nil, unit: .opsPerSecond) { n in
                    for _ in 0..<n { blackHole(try await store.account(id: account.id)) }
                })
        }
        return benchmarks
    }
}
