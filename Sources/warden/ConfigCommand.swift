import ArgumentParser
import Foundation
import WardenApp
import WardenCrypto
import WardenHTTP
import WardenRedis
import WardenTLS

/// `warden config`: validate and print the configuration without starting anything.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check or print the configuration (flags, environment, file) without starting.",
        subcommands: [Check.self, Show.self, Reference.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration as `warden serve` would read it; list every problem at once.",
            discussion: "Exits 0 when it is valid, 1 with every problem listed otherwise. Nothing is opened or started; key and certificate files are read and checked.")
        @OptionGroup var options: KeyringOptions
        @Option(help: ArgumentHelp("A JSON or YAML file of settings (else WARDEN_CONFIG_FILE).", valueName: "path")) var config: String?

        func run() async throws {
            let configuration = try await options.settings(configFile: config)
            var problems = [ConfigurationError.Problem]()
            if let key = configuration.masterKeySettings[MasterKey.environmentVariable], (try? MasterKey(base64: key)) == nil {
                problems.append(
                    .init(
                        setting: MasterKey.environmentVariable, source: configuration.sources[MasterKey.environmentVariable],
                        message: "must be the base64 of exactly 32 bytes"))
            }
            if let path = configuration.masterKeySettings[MasterKey.fileEnvironmentVariable] {
                do { _ = try MasterKey.resolve(environment: configuration.masterKeySettings, dataDirectory: configuration.dataDirectory, keyringExists: true, allowGenerate: false) } catch {
                    problems.append(
                        .init(
                            setting: MasterKey.fileEnvironmentVariable, source: configuration.sources[MasterKey.environmentVariable],
                            message: "\(path) could not be used: \(error.message)"))
                }
            }
            if !configuration.isEmbedded, configuration.masterKeySettings.isEmpty {
                problems.append(
                    .init(
                        setting: MasterKey.environmentVariable, source: nil,
                        message: "with WARDEN_DATABASE_URL a master key must be configured (WARDEN_MASTER_KEY or WARDEN_MASTER_KEY_FILE)"))
            }
            if let url = configuration.redisURL {
                do { _ = try RedisConfiguration(url: url) } catch {
                    problems.append(.init(setting: "WARDEN_REDIS_URL", source: configuration.sources["WARDEN_REDIS_URL"], message: "is not a usable Redis URL"))
                }
            }
            if configuration.server.tls, let files = configuration.tlsFiles {
                do { _ = try TLSSettings(certificatePath: files.certificate, keyPath: files.key).makeServerConfiguration() } catch {
                    problems.append(.init(setting: "WARDEN_TLS_CERT", source: configuration.sources["WARDEN_TLS_CERT"], message: "the certificate and key could not be used: \(error)"))
                }
            }
            guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
            let set = configuration.sources.count
            print("warden: the configuration is valid (\(set) setting\(set == 1 ? "" : "s") set, the rest default; `warden config show` lists them)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every setting's effective value and where it came from; secrets only as set or not.")
        @OptionGroup var options: KeyringOptions
        @Option(help: ArgumentHelp("A JSON or YAML file of settings (else WARDEN_CONFIG_FILE).", valueName: "path")) var config: String?
        @Flag(help: "One JSON object per setting, in an array.") var json = false

        func run() async throws {
            let lines = try await options.settings(configFile: config).report()
            if json {
                try Terminal.printJSON(
                    lines.map { line in
                        ["key": line.setting.key, "environment": line.setting.environment, "value": line.value, "source": line.source, "secret": line.setting.isSecret] as [String: Any]
                    })
                return
            }
            let width = (lines.map(\.setting.environment.count).max() ?? 0) + 2
            for line in lines {
                let name = line.setting.environment.padding(toLength: width, withPad: " ", startingAt: 0)
                print("\(name)\(line.value)   [\(line.source)]")
            }
        }
    }

    struct Reference: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the settings reference table (the one in docs/configuration.md), generated from the declarations.")

        func run() {
            print(WardenConfiguration.referenceTable(), terminator: "")
        }
    }
}
