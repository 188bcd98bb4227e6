import ArgumentParser
import Foundation
import WardenAccess
import WardenApp

struct RolesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roles", abstract: "Show roles and their permissions.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List roles: parent, direct and effective permission counts.")
        @OptionGroup var options: KeyringOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let roles = try await Runtime.with(options.settings()) { try await $0.access.roles() }
            let sorted = roles.roles.values.sorted { $0.name < $1.name }
            if json {
                try Terminal.printJSON(sorted.map { RolesCommand.object($0, in: roles) })
                return
            }
            print("ROLE".padding(toLength: 26, withPad: " ", startingAt: 0) + "PARENT".padding(toLength: 22, withPad: " ", startingAt: 0) + "DIRECT  EFFECTIVE")
            for role in sorted {
                print(
                    role.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                        + (role.parent ?? "-").padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(role.permissions.count).padding(toLength: 8, withPad: " ", startingAt: 0)
                        + String(roles.effectivePermissions(of: role.name).count))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one role: its parents and permissions.")
        @OptionGroup var options: KeyringOptions
        @Argument var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let roles = try await Runtime.with(options.settings()) { try await $0.access.roles() }
            guard let role = roles.roles[name] else { throw AccessError(.roleNotFound, "no role named \(name)") }
            let object = RolesCommand.object(role, in: roles)
            if json {
                try Terminal.printJSON(object)
                return
            }
            print("role        \(role.name) — \(role.summary)")
            print("inherits    " + (roles.ancestors(of: name).isEmpty ? "nothing" : roles.ancestors(of: name).joined(separator: " → ")))
            print("direct      " + role.permissions.sorted().map(\.description).joined(separator: " "))
            print("effective   " + roles.effectivePermissions(of: name).sorted().map(\.description).joined(separator: " "))
        }
    }

    static func object(_ role: Role, in roles: RoleSet) -> [String: Any] {
        var object: [String: Any] = [
            "name": role.name, "summary": role.summary,
            "permissions": role.permissions.sorted().map(\.description),
            "effective_permissions": roles.effectivePermissions(of: role.name).sorted().map(\.description),
            "inherits": roles.ancestors(of: role.name),
        ]
        if let parent = role.parent { object["parent"] = parent }
        return object
    }
}
