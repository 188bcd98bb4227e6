import Foundation
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenTestSupport

let testMasterKey = try! MasterKey(bytes: [UInt8](repeating: 0x42, count: 32))
let fastHashes = ScryptParameters(logN: 10, blockSize: 8, parallelism: 1)
let adminContext = AuditContext(actor: "test:admin", sourceAddress: "203.0.113.9", requestID: "req-42")

/// Account services over the in-memory directory, with a manual clock.
struct AccessFixture {
    let directory: MemoryDirectory
    let auditLog: MemoryAuditLog
    let cipher: FieldCipher
    let accounts: AccountService
    let clock: ManualWallClock

    static func make(
        parameters: ScryptParameters = fastHashes, hasher: PasswordHasher? = nil, masterKey: MasterKey = testMasterKey,
        configure: (inout AccountService.Configuration) -> Void = { _ in }
    ) async throws -> AccessFixture {
        let clock = ManualWallClock()
        let auditLog = MemoryAuditLog(chain: AuditChain(key: masterKey.auditKey))
        let directory = MemoryDirectory(auditLog: auditLog)
        let cipher = try await FieldCipher.load(store: MemoryKeyringStore(), masterKey: masterKey, clock: clock)
        var configuration = AccountService.Configuration()
        configure(&configuration)
        let accounts = AccountService(
            store: directory, hasher: hasher ?? PasswordHasher(parameters: parameters), cipher: cipher, configuration: configuration, clock: clock)
        return AccessFixture(directory: directory, auditLog: auditLog, cipher: cipher, accounts: accounts, clock: clock)
    }
}

/// Runs a Python one-liner (the test script makes sure python3 is there) and returns its output.
func python(_ code: String, _ arguments: String...) async throws -> String {
    let (_, output, _) = try await runProcess("/usr/bin/env", ["python3", "-c", code] + arguments)
    return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
