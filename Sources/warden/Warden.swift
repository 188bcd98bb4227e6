import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Field encryption with a versioned, rotating keyring.",
        discussion: """
            With no configuration, Warden runs as an embedded development setup: its keyring and a generated \
            master key live in ./.warden (see --data-dir). Production sets WARDEN_MASTER_KEY or \
            WARDEN_MASTER_KEY_FILE. Every setting is listed in docs/configuration.md.
            """,
        subcommands: [
            KeysCommand.self, EncryptCommand.self, DecryptCommand.self, RewrapCommand.self, UsersCommand.self, RolesCommand.self,
            AuditCommand.self, DatabaseCommand.self, MFACommand.self, ServeCommand.self, CertsCommand.self, MigrateCommand.self,
        ])

    /// Runs every task on NIO's event loops (one thread per core) instead of Swift's own pool, before any
    /// task starts: a request's handler, its Redis reply and its response then stay on one thread, without
    /// the hand-over between pools that cost a third of the server's CPU. Work that blocks (scrypt, PBKDF2,
    /// SQLite) runs on dedicated threads, never on these. `WARDEN_EXECUTOR=swift` keeps Swift's pool.
    static func main() async {
        if ProcessInfo.processInfo.environment["WARDEN_EXECUTOR"] != "swift" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }
}
