import Foundation
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenMFA
import WardenSQL

#if canImport(Glibc)
import Glibc
#endif

/// Everything the command line reads from flags and the environment.
struct Settings {
    let dataDirectory: String
    /// `WARDEN_DATABASE_URL` (PostgreSQL), or nil for the SQLite file in the data directory.
    let databaseURL: String?
    var configuration: FieldCipher.Configuration
    var accounts: AccountService.Configuration
    var scrypt: ScryptParameters
    let environment: [String: String]

    var sqlitePath: String { dataDirectory + "/warden.db" }

    /// Who the command line acts as in the audit log.
    var actor: String {
        let user = environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "uid\(getuid())"
        return "cli:\(user)"
    }

    /// Opens the database (applying migrations), loads the keyring, and builds the services.
    ///
    /// In the embedded default a master key is generated on the very first run; with
    /// `WARDEN_DATABASE_URL` set (production) a master key must be configured.
    func open(rotatingWhenDue: Bool = true) async throws -> Runtime {
        let legacyFile = FileKeyringStore(directory: dataDirectory)
        let embedded = databaseURL == nil
        var keyringExists = legacyFile.exists
        if !keyringExists, embedded { keyringExists = try await SQLStore.sqliteHasKeyring(path: sqlitePath) }
        let (masterKey, origin) = try MasterKey.resolve(
            environment: environment, dataDirectory: dataDirectory, keyringExists: keyringExists, allowGenerate: embedded)
        // Child processes must not inherit the key.
        unsetenv(MasterKey.environmentVariable)
        if case .generated(let path) = origin {
            Terminal.warn("""
                no master key configured: generated one at \(path) (mode 0600). This is a development setup: \
                back the key up, and in production set \(MasterKey.environmentVariable) or \(MasterKey.fileEnvironmentVariable).
                """)
        }
        let store = try await SQLStore.open(
            url: databaseURL, sqlitePath: sqlitePath, auditChain: AuditChain(key: masterKey.auditKey), keyringActor: actor)
        do {
            try await importFileKeyring(legacyFile, into: store, masterKey: masterKey)
            var configuration = configuration
            configuration.rotatesWhenDue = rotatingWhenDue
            let cipher = try await FieldCipher.load(store: store, masterKey: masterKey, configuration: configuration)
            let hasher = PasswordHasher(parameters: scrypt)
            return Runtime(
                store: store, cipher: cipher,
                accounts: AccountService(store: store, hasher: hasher, cipher: cipher, configuration: accounts),
                access: AccessService(store: store),
                mfa: try MFAService(store: store, cipher: cipher, hashKey: masterKey.secretHashKey, limiter: store),
                masterKey: masterKey, context: AuditContext(actor: actor))
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Moves a keyring written by an earlier Warden to `keyring.json` into the database, once: verified
    /// under the master key first, then stored, then the file renamed to `keyring.json.imported`.
    private func importFileKeyring(_ file: FileKeyringStore, into store: SQLStore, masterKey: MasterKey) async throws {
        guard file.exists, try await store.load() == nil, let document = try file.load() else { return }
        _ = try Keyring.verified(document, masterKey: masterKey)
        _ = try await store.update { stored in
            if stored == nil { stored = document }
        }
        try FileManager.default.moveItem(atPath: file.documentPath, toPath: file.documentPath + ".imported")
        Terminal.warn("imported the keyring from \(file.documentPath) into the database (the file is kept as keyring.json.imported)")
    }
}

/// The opened state and services one command works with.
struct Runtime {
    let store: SQLStore
    let cipher: FieldCipher
    let accounts: AccountService
    let access: AccessService
    let mfa: MFAService
    let masterKey: MasterKey
    let context: AuditContext

    /// Gives back unused seal reservations and closes the database.
    func close() async {
        try? await cipher.close()
        try? await store.close()
    }

    /// Runs `body`, then closes, whether or not `body` threw.
    static func with<T>(_ settings: Settings, rotatingWhenDue: Bool = true, _ body: (Runtime) async throws -> T) async throws -> T {
        let runtime = try await settings.open(rotatingWhenDue: rotatingWhenDue)
        do {
            let result = try await body(runtime)
            await runtime.close()
            return result
        } catch {
            await runtime.close()
            throw error
        }
    }
}
