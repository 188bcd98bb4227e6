import Foundation

extension WardenConfiguration {
    /// One line per setting for `warden config show`: its effective value (a secret only as `(secret, set)`)
    /// and where it came from.
    public struct ReportLine: Sendable {
        public let setting: Setting
        /// The value as set, the default's description when unset, or `(secret, set)`.
        public let value: String
        /// Where the value came from, or `default`.
        public let source: String
    }

    /// Every setting with its effective value and source; secrets never appear.
    public func report() -> [ReportLine] {
        Setting.all.map { setting in
            guard let source = sources[setting.environment] else {
                return ReportLine(setting: setting, value: setting.defaultValue, source: "default")
            }
            let text = texts[setting.environment] ?? ""
            let value = setting.isSecret ? (text.isEmpty ? "(secret, empty)" : "(secret, set)") : text
            return ReportLine(setting: setting, value: value, source: source.description)
        }
    }

    /// The reference table of `docs/configuration.md`, generated from ``Setting/all``.
    public static func referenceTable() -> String {
        var lines = ["| file key | environment | flag | default | allowed |", "|---|---|---|---|---|"]
        for section in Setting.Section.allCases {
            lines.append("| **\(section.rawValue)** | | | | |")
            for setting in Setting.all where setting.section == section {
                var environment = "`\(setting.environment)`"
                var key = setting.fileAllowed ? "`\(setting.key)`" : ""
                if let file = setting.fileEnvironment, let fileKey = setting.fileKey {
                    environment += ", `\(file)`"
                    key += (key.isEmpty ? "" : ", ") + "`\(fileKey)`"
                }
                if key.isEmpty { key = "—" }
                let allowed = (setting.isSecret ? "secret; " : "") + setting.allowed
                lines.append("| \(key) | \(environment) | \(setting.flag.map { "`\($0)`" } ?? "—") | \(escape(setting.defaultValue)) | \(escape(allowed)) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
