import ArgumentParser
import Foundation
import WardenApp
import WardenAuth
import WardenCrypto
import WardenMigrate
import WardenSQL
import WardenSessions

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Show and manage the keyring.",
        subcommands: [Status.self, Rotate.self, Retire.self, Restore.self, Destroy.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the key versions, their states and the rotation schedule.")

        @OptionGroup var options: KeyringOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let settings = try await options.settings()
            let (keyring, usage) = try await Runtime.with(settings, rotatingWhenDue: false) { ($0.cipher.keyring, try await $0.database.keyUsage()) }
            let report = KeyringReport(keyring: keyring, policy: settings.cipher.policy, now: Date(), usage: usage, grace: settings.keyGrace)
            if json {
                FileHandle.standardOutput.write(report.json() + Data("\n".utf8))
            } else {
                print(report.text(location: settings.databaseURL == nil ? settings.sqlitePath : "PostgreSQL (WARDEN_DATABASE_URL)"))
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new key version and make it primary.",
            discussion: """
                Always rotates, whatever the age of the current primary, unless --if-due is given. While \
                `warden serve` nodes are running, the new version is published first (every node opens \
                with it) and becomes primary once every running node holds it, or after \
                WARDEN_KEY_PROPAGATION_SECONDS; the command waits up to 5 seconds for that.
                """)

        @OptionGroup var options: KeyringOptions

        @Flag(help: "Rotate only if the primary is older than the rotation period or at its seal limit (for cron).")
        var ifDue = false

        @Flag(help: "Rotate the token signing key (EdDSA, in the JWKS) instead of the field-encryption key.")
        var signingKey = false

        func validate() throws {
            if signingKey && ifDue { throw ValidationError("--if-due applies to the field-encryption key only") }
        }

        func run() async throws {
            let settings = try await options.settings()
            if signingKey { return print(try await rotateSigningKey(settings)) }
            let message = try await Runtime.with(settings, rotatingWhenDue: false) { runtime -> String in
                let (cipher, rollout) = (runtime.cipher, runtime.rollout)
                let before = cipher.keyring.primaryVersion
                if ifDue {
                    guard try await cipher.rotateIfDue() else {
                        let due = cipher.keyring.primary.created.addingTimeInterval(settings.cipher.policy.rotationPeriod)
                        return "not due: primary key version \(before) rotates at \(KeyringReport.timestamp(due))"
                    }
                    try await rollout.step(publishingWhenDue: false)
                } else {
                    _ = try await rollout.rotateFieldKey()
                }
                // Running nodes hear of the new version at once on PostgreSQL; give them a moment to hold it.
                for _ in 0..<20 where cipher.keyring.publishedVersion != nil {
                    try await Task.sleep(for: .milliseconds(250))
                    try await rollout.step(publishingWhenDue: false)
                }
                let keyring = cipher.keyring
                if let published = keyring.publishedVersion, keyring.primaryVersion == before {
                    return """
                        published: key version \(published.version) opens data on every node that has re-read the keyring; \
                        it becomes primary once every running node holds it (at most \(Int(settings.keyRollout.propagationInterval)) s \
                        after a node first sees it). The primary is still \(before).
                        """
                }
                return "rotated: the primary key version is now \(keyring.primaryVersion) (was \(before))"
            }
            print(message)
        }

        /// Publishes a new signing key and waits up to 5 s for the running servers to hold it, when it signs.
        private func rotateSigningKey(_ settings: Settings) async throws -> String {
            try await Runtime.with(settings, rotatingWhenDue: false) { runtime -> String in
                let (keys, rollout) = (runtime.keys, runtime.rollout)
                try await keys.reloadOnly()
                let before = await keys.signingKID
                try await rollout.rotateSigningKey()
                for _ in 0..<20 where await keys.publishedKID != nil {
                    try await Task.sleep(for: .milliseconds(250))
                    try await rollout.step(publishingWhenDue: false)
                }
                if let published = await keys.publishedKID {
                    return """
                        published: signing key \(published) is in the JWKS and verifies on every node that has re-read the keys; \
                        it signs once every running node holds it (at most \(Int(settings.keyRollout.propagationInterval)) s \
                        after a node first sees it). Tokens are still signed with \(before ?? "none").
                        """
                }
                return "rotated: tokens are now signed with key \(await keys.signingKID ?? "none") (was \(before ?? "none"))"
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Raise the minimum decryption version: versions below it stop opening data.",
            discussion: "Rewrap data sealed under old versions first (`warden rewrap`). Reversible with `keys restore` until a version is destroyed.")

        @OptionGroup var options: KeyringOptions

        @Option(help: ArgumentHelp("Retire every version below this one (at most the primary).", valueName: "version"))
        var below: UInt32

        @Flag(help: "Retire even versions that migrated columns still use (their values will not open until `keys restore`).")
        var force = false

        func run() async throws {
            let keyring = try await Runtime.with(options.settings(), rotatingWhenDue: false) { runtime in
                let inUse = KeyAccounting.inUse(below: below, try await runtime.database.keyUsage())
                    .filter { $0.key >= runtime.cipher.keyring.minimumDecryptionVersion }
                guard inUse.isEmpty || force else {
                    let list = inUse.sorted { $0.key < $1.key }.map { "version \($0.key): \($0.value) values" }.joined(separator: ", ")
                    return Result<Keyring, RetireRefused>.failure(
                        RetireRefused(
                            message:
                                "migrated columns still use \(list) (counted by `warden migrate`; see `warden keys status`); rewrap them first (`warden migrate run --rewrap-old-versions`), or add --force"
                        ))
                }
                return .success(try await runtime.cipher.retire(below: below))
            }.get()
            print("retired: versions below \(keyring.minimumDecryptionVersion) no longer open data")
        }
    }

    struct RetireRefused: Error, CustomStringConvertible {
        let message: String
        var description: String { "refused: " + message }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lower the minimum decryption version again, bringing retired versions back.")

        @OptionGroup var options: KeyringOptions

        @Option(help: ArgumentHelp("The new minimum decryption version.", valueName: "version"))
        var from: UInt32

        func run() async throws {
            let keyring = try await Runtime.with(options.settings(), rotatingWhenDue: false) { try await $0.cipher.restore(from: from) }
            print("restored: versions from \(keyring.minimumDecryptionVersion) open data again")
        }
    }

    struct Destroy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a retired version's key material. Irreversible: what it sealed can never be opened again.")

        @OptionGroup var options: KeyringOptions

        @Option(help: ArgumentHelp("The retired version to destroy.", valueName: "version"))
        var version: UInt32

        @Flag(help: "Confirm that data sealed under this version may be lost for good.")
        var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("destroying key material is irreversible; add --yes to confirm") }
        }

        func run() async throws {
            try await Runtime.with(options.settings(), rotatingWhenDue: false) { _ = try await $0.cipher.destroy(version: version) }
            print("destroyed: key version \(version)")
        }
    }
}
