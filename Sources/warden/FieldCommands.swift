import ArgumentParser
import Foundation
import WardenApp
import WardenAuth
import WardenCrypto

struct EncryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Seal standard input (bytes, as given) and print the text envelope.")

    @OptionGroup var options: KeyringOptions

    @Option(help: ArgumentHelp("Where the value lives, e.g. users/email/42; opening needs the same context.", valueName: "context"))
    var context: String

    func run() async throws {
        let settings = try await options.settings()
        let plaintext = try Terminal.readInput(limit: settings.cipher.maxPlaintextBytes)
        let text = try await Runtime.with(settings) { runtime in
            try await runtime.security().encrypt(Array(plaintext), context: context, runtime.principal).text
        }
        print(text)
    }
}

struct DecryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Open a ciphertext from standard input (Warden envelope or legacy format) and print the plaintext.",
        discussion: "Surrounding whitespace (such as the newline `encrypt` prints) is ignored for text inputs.")

    @OptionGroup var options: KeyringOptions

    @Option(help: ArgumentHelp("The context the value was sealed with.", valueName: "context"))
    var context: String

    @Flag(help: "Print JSON with the plaintext and the key version or legacy format that opened it.")
    var json = false

    func run() async throws {
        let settings = try await options.settings()
        let input = try settings.readCiphertext()
        let opened = try await Runtime.with(settings) { runtime in
            try runtime.cipher.open(trimmedIfText(input), context: try AccountSecurity.callerContext(context))
        }
        if json {
            var object: [String: Any] = ["format": opened.source.format, "needs_rewrap": opened.needsRewrap]
            if let text = String(data: opened.plaintext, encoding: .utf8) {
                object["plaintext"] = text
            } else {
                object["plaintext_base64"] = opened.plaintext.base64EncodedString()
            }
            switch opened.source {
            case .envelope(let version): object["key_version"] = version
            case .legacyJSON(let version): object["legacy_version"] = version
            case .legacyFernet, .legacyTwinFernet: break
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(opened.plaintext)
        }
    }
}

struct RewrapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Re-encrypt a ciphertext from standard input under the primary key version, without printing the plaintext.",
        discussion: "Legacy inputs come out as Warden envelopes bound to --context.")

    @OptionGroup var options: KeyringOptions

    @Option(help: ArgumentHelp("The context the value was sealed with (and is sealed with again).", valueName: "context"))
    var context: String

    func run() async throws {
        let settings = try await options.settings()
        let input = try settings.readCiphertext()
        let text = try await Runtime.with(settings) { runtime in
            try await runtime.cipher.rewrap(trimmedIfText(input), context: try AccountSecurity.callerContext(context)).text
        }
        print(text)
    }
}

extension Settings {
    /// Reads a ciphertext from standard input. The bound is generous (text forms expand by 4/3); the
    /// cipher applies the exact limit before any work.
    func readCiphertext() throws -> Data {
        try Terminal.readInput(limit: cipher.maxPlaintextBytes * 2 + 4096)
    }
}

/// Strips surrounding ASCII whitespace from inputs that are not binary envelopes (which may contain any byte).
func trimmedIfText(_ input: Data) -> Data {
    guard input.first != FieldEnvelope.magic else { return input }
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    guard let start = input.firstIndex(where: { !isSpace($0) }), let end = input.lastIndex(where: { !isSpace($0) }) else {
        return Data()
    }
    return input[start...end]
}
