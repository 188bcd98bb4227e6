import ArgumentParser

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
            AuditCommand.self, DatabaseCommand.self, MFACommand.self, ServeCommand.self, CertsCommand.self,
        ])
}
