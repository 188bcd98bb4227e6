import ArgumentParser
import Foundation
import WardenApp
import WardenHTTP

@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Field encryption, sign-in with a second factor or a passkey, sessions you can see and revoke, and a tamper-evident audit log.",
        discussion: """
            `warden serve` runs the HTTP API and the web console; the other commands work on the same data \
            directory or database. With no configuration, Warden runs as an embedded development setup: \
            SQLite, a keyring and a generated master key in ./.warden (see --data-dir). Production sets \
            WARDEN_DATABASE_URL, WARDEN_REDIS_URL and WARDEN_MASTER_KEY or WARDEN_MASTER_KEY_FILE. Every setting \
            is listed in docs/configuration.md.
            """,
        version: WardenVersion.description,
        groupedSubcommands: [
            CommandGroup(name: "Service", subcommands: [ServeCommand.self, ConfigCommand.self, CertsCommand.self]),
            CommandGroup(name: "Accounts and access", subcommands: [UsersCommand.self, RolesCommand.self, MFACommand.self]),
            CommandGroup(name: "Keys and field encryption", subcommands: [KeysCommand.self, EncryptCommand.self, DecryptCommand.self, RewrapCommand.self]),
            CommandGroup(name: "Audit", subcommands: [AuditCommand.self]),
            CommandGroup(name: "Data", subcommands: [DatabaseCommand.self, MigrateCommand.self]),
        ])

    /// Runs every task on NIO's event loops (one thread per core) instead of Swift's own pool, before any
    /// task starts: a request's handler, its Redis reply and its response then stay on one thread, without
    /// the hand-over between pools that cost a third of the server's CPU. Work that blocks (scrypt, PBKDF2,
    /// SQLite) runs on dedicated threads, never on these. `WARDEN_EXECUTOR=swift` keeps Swift's pool.
    /// `warden serve` logs a warning when the take-over did not happen.
    static func main() async {
        if !EventLoopExecutor.keepsSwiftsPool {
            _ = EventLoopExecutor.install()
        }
        await main(nil)
    }
}

/// What `warden --version` prints: the release and how this binary was built.
enum WardenVersion {
    static let release = "0.13.0"

    static var description: String {
        #if DEBUG
        let build = "debug build"
        #else
        let build = "release build"
        #endif
        #if os(Linux)
        let platform = "Linux"
        #else
        let platform = "macOS"
        #endif
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "other"
        #endif
        return "warden \(release) (\(build), \(platform) \(architecture))"
    }
}
