import ArgumentParser
import Foundation
import WardenAccess
import WardenApp
import WardenAuth
import WardenMFA
import WardenSQL

/// Administrators' view of an account's second factors, and the recovery from a lock or the hard stop.
struct MFACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfa", abstract: "Inspect an account's second factors and clear MFA locks.", subcommands: [Status.self, Reset.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account's factors, backup codes and lock state (never secrets).")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (factors, remaining, state) = try await Runtime.with(options.settings()) { runtime in
                let account = try await runtime.account(named: username)
                return (
                    try await runtime.mfa.factors(accountID: account.id), try await runtime.mfa.remainingBackupCodes(accountID: account.id),
                    try await runtime.database.mfaState(accountID: account.id) ?? MFAState()
                )
            }
            let lock =
                state.failures.stopped != nil
                ? "stopped (run `warden mfa reset`)"
                : state.failures.lockedUntil.map { $0 > Date() ? "locked until \(KeyringReport.timestamp($0))" : "none" } ?? "none"
            if json {
                try Terminal.printJSON(
                    [
                        "factors": factors.map { factor -> [String: Any] in
                            var object: [String: Any] = [
                                "id": factor.id.uuidString.lowercased(), "kind": factor.kind.rawValue, "name": factor.name,
                                "created": KeyringReport.timestamp(factor.created),
                            ]
                            object["confirmed"] = factor.confirmed.map(KeyringReport.timestamp)
                            object["last_used"] = factor.lastUsed.map(KeyringReport.timestamp)
                            return object
                        },
                        "backup_codes_remaining": remaining,
                        "consecutive_failures": state.failures.consecutive,
                        "lock": lock,
                    ] as [String: Any])
            } else {
                print("factors: \(factors.isEmpty ? "none" : "")")
                for factor in factors {
                    print(
                        "  \(factor.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(factor.name)  \(factor.confirmed == nil ? "unconfirmed" : "confirmed")  \(factor.id.uuidString.lowercased())"
                    )
                }
                print("backup codes remaining: \(remaining)")
                print("consecutive failures: \(state.failures.consecutive)")
                print("lock: \(lock)")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear an account's MFA failure counters, temporary lock and hard stop (recovery; audited).")
        @OptionGroup var options: KeyringOptions
        @Argument var username: String

        func run() async throws {
            try await Runtime.with(options.settings()) { runtime in
                let security = runtime.security()
                try await security.clearMFALock(of: try await security.target(username: username), runtime.principal)
            }
            print("MFA lock cleared for \(username)")
        }
    }
}
