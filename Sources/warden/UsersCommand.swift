import ArgumentParser
import Foundation
import WardenAccess
import WardenApp
import WardenAuth
import WardenCrypto

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage accounts and their roles.",
        subcommands: [Create.self, List.self, Show.self, Disable.self, Enable.self, SetPassword.self, Delete.self, GrantRole.self, RevokeRole.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account.",
            discussion: """
                With --password-stdin the first line of standard input is the password (never pass passwords as \
                arguments: other users can see them). With --legacy-hash-stdin it is `<salt> <hex digest>` of a \
                hash from the original system (PBKDF2-HMAC-SHA256, 100,000 rounds), rehashed at the first login.
                """)
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Option var email: String?
        @Option var phone: String?
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
        @Flag(help: "Read `<salt> <hex digest>` of an original-system hash from standard input.") var legacyHashStdin = false

        func validate() throws {
            guard !(passwordStdin && legacyHashStdin) else { throw ValidationError("use only one of --password-stdin and --legacy-hash-stdin") }
        }

        func run() async throws {
            let settings = try await options.settings()
            var password: String?
            var legacy: PasswordHash?
            if passwordStdin { password = try Terminal.readLine() }
            if legacyHashStdin {
                let parts = try Terminal.readLine().split(separator: " ")
                guard parts.count == 2, let hash = PasswordHash.legacy(salt: String(parts[0]), hexDigest: String(parts[1])) else {
                    throw ValidationError("expected `<salt> <64 hex digits>` on standard input")
                }
                legacy = hash
            }
            let account = try await Runtime.with(settings) { runtime in
                try await runtime.security().createAccount(
                    AccountSecurity.NewAccount(username: username, password: password, legacyHash: legacy, email: email, phone: phone), runtime.principal)
            }
            print("created: \(account.username) (\(account.id.uuidString.lowercased()))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var options: KeyringOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let accounts = try await Runtime.with(options.settings()) { try await $0.accounts.accounts() }
            if json {
                try Terminal.printJSON(accounts.map(AccountReport.object))
            } else {
                print("USERNAME".padding(toLength: 24, withPad: " ", startingAt: 0) + "STATUS    ID")
                for account in accounts {
                    print(
                        account.username.padding(toLength: 24, withPad: " ", startingAt: 0)
                            + account.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + account.id.uuidString.lowercased())
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account, its roles and effective permissions.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (account, grants, permissions) = try await Runtime.with(options.settings()) { runtime in
                let account = try await runtime.account(named: username)
                let authorizer = Authorizer(store: runtime.database)
                return (account, try await runtime.access.grants(of: account), try await authorizer.permissions(of: account))
            }
            var object = AccountReport.object(account)
            object["roles"] = grants.map { grant -> [String: Any] in
                var entry: [String: Any] = ["role": grant.role, "granted": grant.granted.formatted(.iso8601), "granted_by": grant.grantedBy]
                if let expires = grant.expires { entry["expires"] = expires.formatted(.iso8601) }
                return entry
            }
            object["permissions"] = permissions.sorted().map(\.description)
            if json {
                try Terminal.printJSON(object)
            } else {
                for key in ["username", "id", "status", "email", "phone", "created", "updated", "locked_until"] {
                    if let value = object[key] { print(key.padding(toLength: 14, withPad: " ", startingAt: 0) + "\(value)") }
                }
                print("roles         " + (grants.isEmpty ? "none" : grants.map { $0.role + ($0.expires.map { " (until \($0.formatted(.iso8601)))" } ?? "") }.joined(separator: ", ")))
                print("permissions   " + (permissions.isEmpty ? "none" : permissions.sorted().map(\.description).joined(separator: " ")))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account: it can no longer log in or use its roles.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String

        func run() async throws {
            let revoked = try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                return try await security.disable(try await security.target(username: username), runtime.principal).sessionsRevoked
            }
            print("disabled: \(username) (\(revoked) sessions revoked)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable an account, also lifting a lock from failed logins.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String

        func run() async throws {
            try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                _ = try await security.enable(try await security.target(username: username), runtime.principal)
            }
            print("enabled: \(username)")
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password", abstract: "Set an account's password from the first line of standard input.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String

        func run() async throws {
            let password = try Terminal.readLine()
            let revoked = try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                return try await security.resetPassword(of: try await security.target(username: username), to: password, runtime.principal)
            }
            print("password set: \(username) (\(revoked) sessions revoked)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account and its role grants.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Flag(help: "Confirm the deletion.") var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("deleting an account is irreversible; add --yes to confirm") }
        }

        func run() async throws {
            try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                try await security.delete(try await security.target(username: username), runtime.principal)
            }
            print("deleted: \(username)")
        }
    }

    struct GrantRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Grant a role to an account.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Argument var role: String
        @Option(help: "Let the grant expire after this many days.") var days: Double?

        func run() async throws {
            let expires = try days.map { days -> Date in
                guard days > 0 else { throw ValidationError("--days must be positive") }
                return Date().addingTimeInterval(days * 86_400)
            }
            try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                try await security.grantRole(role, to: try await security.target(username: username), expires: expires, runtime.principal)
            }
            print("granted: \(role) to \(username)" + (expires.map { " until \($0.formatted(.iso8601))" } ?? ""))
        }
    }

    struct RevokeRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a role from an account.")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Argument var role: String

        func run() async throws {
            let held = try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                return try await security.revokeRole(role, from: try await security.target(username: username), runtime.principal)
            }
            print(held ? "revoked: \(role) from \(username)" : "\(username) did not hold \(role)")
        }
    }
}

enum AccountReport {
    static func object(_ account: Account) -> [String: Any] {
        var object: [String: Any] = [
            "id": account.id.uuidString.lowercased(), "username": account.username, "status": account.status.rawValue,
            "created": account.created.formatted(.iso8601), "updated": account.updated.formatted(.iso8601),
        ]
        if let email = account.email { object["email"] = email }
        if let phone = account.phone { object["phone"] = phone }
        if let lockedUntil = account.lockedUntil { object["locked_until"] = lockedUntil.formatted(.iso8601) }
        return object
    }
}

extension Runtime {
    func account(named username: String) async throws -> Account {
        guard let account = try await accounts.account(username: username) else {
            throw AccessError(.accountNotFound, "no account named \(username)")
        }
        return account
    }
}
