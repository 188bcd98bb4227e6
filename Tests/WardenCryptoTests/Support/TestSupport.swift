import Foundation
import Synchronization
import Testing
import WardenCore

@testable import WardenCrypto

/// The package's root directory (this file is `Tests/WardenCryptoTests/Support/TestSupport.swift`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The shared test vectors: `WARDEN_VECTORS_DIR`, else `../shared/vectors` beside the package.
func vectorsDirectory() throws -> URL {
    if let configured = ProcessInfo.processInfo.environment["WARDEN_VECTORS_DIR"], !configured.isEmpty {
        return URL(fileURLWithPath: configured)
    }
    let beside = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors")
    guard FileManager.default.fileExists(atPath: beside.path) else {
        throw VectorsMissing(searched: beside.path)
    }
    return beside
}

struct VectorsMissing: Error, CustomStringConvertible {
    let searched: String
    var description: String {
        "test vectors not found at \(searched); set WARDEN_VECTORS_DIR to the folder holding wycheproof/ and fernet/"
    }
}

/// Loads a JSON vector file as `T`.
func loadVectors<T: Decodable>(_ relativePath: String, as type: T.Type) throws -> T {
    let url = try vectorsDirectory().appendingPathComponent(relativePath)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

extension Array where Element == UInt8 {
    /// Bytes from a hex string (test vectors only).
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// A fresh private directory under the system's temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-test-\(UUID().uuidString)").path
        try SecureFile.createPrivateDirectory(path)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A master key from a fixed byte, for tests.
func testMasterKey(_ byte: UInt8 = 0x42) -> MasterKey {
    try! MasterKey(bytes: [UInt8](repeating: byte, count: 32))
}

/// Collects the reasons a cipher's observer reports.
final class FailureLog: Sendable {
    private let entries = Mutex<[DecryptionFailure]>([])
    var all: [DecryptionFailure] { entries.withLock { $0 } }
    func record(_ failure: DecryptionFailure) { entries.withLock { $0.append(failure) } }
}

/// A cipher over a memory store with a manual clock, and the pieces tests inspect.
struct CipherFixture {
    let store: MemoryKeyringStore
    let clock: ManualWallClock
    let failures: FailureLog
    let cipher: FieldCipher

    static func make(
        policy: KeyringPolicy = KeyringPolicy(),
        legacyKeys: LegacyKeys? = nil,
        maxPlaintextBytes: Int = 1 << 20,
        store: MemoryKeyringStore = MemoryKeyringStore(),
        clock: ManualWallClock = ManualWallClock()
    ) async throws -> CipherFixture {
        let failures = FailureLog()
        var configuration = FieldCipher.Configuration()
        configuration.policy = policy
        configuration.legacyKeys = legacyKeys
        configuration.maxPlaintextBytes = maxPlaintextBytes
        configuration.failureObserver = { failures.record($0) }
        let cipher = try await FieldCipher.load(store: store, masterKey: testMasterKey(), configuration: configuration, clock: clock)
        return CipherFixture(store: store, clock: clock, failures: failures, cipher: cipher)
    }
}
