import ArgumentParser
import Foundation
import WardenCrypto

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
            let settings = try options.settings()
            let cipher = try await settings.loadCipher(rotatingWhenDue: false)
            let report = KeyringReport(keyring: cipher.keyring, policy: settings.configuration.policy, now: Date())
            if json {
                FileHandle.standardOutput.write(report.json() + Data("\n".utf8))
            } else {
                print(report.text(location: FileKeyringStore(directory: settings.dataDirectory).documentPath))
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new key version and make it primary.",
            discussion: "Always rotates, whatever the age of the current primary, unless --if-due is given.")

        @OptionGroup var options: KeyringOptions

        @Flag(help: "Rotate only if the primary is older than the rotation period or at its seal limit (for cron).")
        var ifDue = false

        func run() async throws {
            let settings = try options.settings()
            let cipher = try await settings.loadCipher(rotatingWhenDue: false)
            let before = cipher.keyring.primaryVersion
            if ifDue {
                let rotated = try await cipher.rotateIfDue()
                let keyring = cipher.keyring
                if rotated {
                    print("rotated: the primary key version is now \(keyring.primaryVersion) (was \(before))")
                } else {
                    let due = keyring.primary.created.addingTimeInterval(settings.configuration.policy.rotationPeriod)
                    print("not due: primary key version \(before) rotates at \(KeyringReport.timestamp(due))")
                }
            } else {
                let keyring = try await cipher.rotate()
                print("rotated: the primary key version is now \(keyring.primaryVersion) (was \(before))")
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

        func run() async throws {
            let cipher = try await options.settings().loadCipher(rotatingWhenDue: false)
            let keyring = try await cipher.retire(below: below)
            print("retired: versions below \(keyring.minimumDecryptionVersion) no longer open data")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lower the minimum decryption version again, bringing retired versions back.")

        @OptionGroup var options: KeyringOptions

        @Option(help: ArgumentHelp("The new minimum decryption version.", valueName: "version"))
        var from: UInt32

        func run() async throws {
            let cipher = try await options.settings().loadCipher(rotatingWhenDue: false)
            let keyring = try await cipher.restore(from: from)
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
            let cipher = try await options.settings().loadCipher(rotatingWhenDue: false)
            try await cipher.destroy(version: version)
            print("destroyed: key version \(version)")
        }
    }
}
