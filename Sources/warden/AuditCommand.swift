import ArgumentParser
import Foundation
import WardenAccess
import WardenApp
import WardenAudit
import WardenCore
import WardenSQL

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify and read the tamper-evident audit log.", subcommands: [Verify.self, Tail.self, Tag.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry's link, hash and MAC, and the chain head; exit non-zero at the first problem.")
        @OptionGroup var options: KeyringOptions

        func run() async throws {
            let result = try await Runtime.with(options.settings(), rotatingWhenDue: false) { runtime in
                try await AuditVerifier(chain: runtime.database.auditChain).verify(runtime.database)
            }
            switch result {
            case .intact(let count):
                print("intact: \(count) entries")
            case .broken:
                print(result.description)
                throw ExitCode(2)
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the tag that failed logins for an unknown username carry in the audit log (details username_tag).",
            discussion: "The log never records the typed text, which is sometimes a password; the tag is keyed by the master key.")
        @OptionGroup var options: KeyringOptions
        @Argument(help: "The username to look for.") var username: String

        func run() async throws {
            print(try await Runtime.with(options.settings(), rotatingWhenDue: false) { $0.accounts.usernameTag(username) })
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the most recent events.")
        @OptionGroup var options: KeyringOptions
        @Option(help: "How many events.") var limit = 20
        @Flag(help: "Print one JSON object per line.") var json = false

        func run() async throws {
            let entries = try await Runtime.with(options.settings(), rotatingWhenDue: false) { try await $0.database.latest(limit: max(1, min(limit, 10_000))) }
            for entry in entries {
                let event = entry.event
                if json {
                    var object: [String: Any] = [
                        "seq": entry.sequence, "time": event.time.formatted(.iso8601),
                        "action": event.action, "outcome": event.outcome.rawValue, "actor": event.actor, "details": event.details,
                    ]
                    if let subject = event.subject { object["subject"] = subject }
                    if let source = event.sourceAddress { object["source_address"] = source }
                    if let request = event.requestID { object["request_id"] = request }
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    let details = event.details.keys.sorted().map { "\($0)=\(event.details[$0]!)" }.joined(separator: " ")
                    print("\(entry.sequence)  \(event.time.formatted(.iso8601))  \(event.action) \(event.outcome.rawValue)  \(event.actor) → \(event.subject ?? "-")  \(details)")
                }
            }
        }
    }
}
