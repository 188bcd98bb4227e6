/// The original Python system's environment variables, and what Warden does with each.
///
/// An installation moving to Warden often keeps its environment. These are the one list of the original's
/// variables: the `warden` commands read it to accept the few that still mean something (as fallbacks for
/// Warden's own settings) and to say, once per start, which Warden setting replaces each one that is set;
/// a migration tool can read it to report the same. docs/configuration.md shows the table.
///
/// - Important: A note names a variable and its replacement, never its value: several of these hold
///   secrets (`DIGITAL_TWIN_MASTER_KEY`, `API_SECRET_KEY`).
public enum OriginalEnvironment {
    /// One of the original system's variables.
    public struct Variable: Sendable, Hashable {
        /// What Warden does with the variable.
        public enum Use: Sendable, Hashable {
            /// Read in place of ``Variable/replacement`` when that is unset or empty.
            case fallback
            /// Never read; ``Variable/note`` says what to do instead.
            case ignored
        }

        /// The original's name, e.g. `REDIS_URL`.
        public let name: String
        /// The Warden setting that replaces it: for a fallback, the one environment variable it stands in
        /// for; otherwise the setting (or settings) that cover its purpose.
        public let replacement: String
        /// Whether Warden reads it.
        public let use: Use
        /// Why, in a clause that completes the note.
        public let note: String
    }

    /// Every variable of the original system that Warden knows, in the order notes are given.
    public static let variables: [Variable] = [
        Variable(
            name: "DIGITAL_TWIN_MASTER_KEY", replacement: "WARDEN_LEGACY_MASTER_KEY", use: .fallback,
            note: "it opens the original's JSON envelopes only, and is never Warden's master key (WARDEN_MASTER_KEY)"),
        Variable(
            name: "DIGITAL_TWIN_ENCRYPTION_KEY", replacement: "WARDEN_LEGACY_ENCRYPTION_KEY", use: .fallback,
            note: "it opens the original's Fernet tokens (raw and digital-twin) only"),
        Variable(
            name: "CURRENT_KEY_VERSION", replacement: "WARDEN_LEGACY_KEY_VERSIONS", use: .ignored,
            note: "Warden's keyring keeps its own versions (warden keys status); the original's JSON envelopes name their version, and WARDEN_LEGACY_KEY_VERSIONS may list the ones to accept"),
        Variable(
            name: "RBAC_DB_PATH", replacement: "WARDEN_DATABASE_URL or WARDEN_DATA_DIR", use: .ignored,
            note: "accounts and roles live in Warden's own database; `warden migrate` reads the original's rbac.db from it when --rbac-db is not given"),
        Variable(
            name: "DIGITAL_TWIN_DB_PATH", replacement: "WARDEN_DATABASE_URL or WARDEN_DATA_DIR", use: .ignored,
            note: "Warden keeps nothing there; `warden migrate` rewrites its encrypted cells in place, reading it from there when --twin-db is not given"),
        Variable(
            name: "REDIS_URL", replacement: "WARDEN_REDIS_URL", use: .fallback,
            note: "sessions and rate limits go to that Redis"),
        Variable(
            name: "TLS_ENABLED", replacement: "WARDEN_TLS", use: .ignored,
            note: "TLS is on unless WARDEN_TLS=off (or --no-tls) says otherwise; the original's value never turns it off"),
        Variable(
            name: "TLS_CERT_FILE", replacement: "WARDEN_TLS_CERT", use: .fallback,
            note: "warden serve presents that certificate chain"),
        Variable(
            name: "TLS_KEY_FILE", replacement: "WARDEN_TLS_KEY", use: .fallback,
            note: "warden serve uses that private key (it must be mode 0600 or stricter)"),
        Variable(
            name: "API_SECRET_KEY", replacement: "Warden's own Ed25519 signing keys, generated and kept sealed", use: .ignored,
            note: "the original's HS256 secret never becomes a Warden signing or verification key, so tokens the original issued are not accepted and users sign in again"),
    ]

    /// The variable named `name`, if it is one of the original's.
    public static func variable(named name: String) -> Variable? {
        variables.first { $0.name == name }
    }

    /// `environment` with each fallback applied: where a Warden variable is unset or empty and the
    /// original's variable that it replaces is set, the Warden variable takes the original's value.
    public static func applyingFallbacks(to environment: [String: String]) -> [String: String] {
        var result = environment
        for variable in variables where variable.use == .fallback {
            guard let value = nonEmpty(variable.name, environment), nonEmpty(variable.replacement, environment) == nil else { continue }
            result[variable.replacement] = value
        }
        return result
    }

    /// One line for each of the original's variables set (non-empty) in `environment`, naming the Warden
    /// setting that replaces it and whether its value was used — never the value.
    ///
    /// For example: `REDIS_URL is the original system's setting; Warden reads WARDEN_REDIS_URL (used
    /// REDIS_URL because WARDEN_REDIS_URL is unset): sessions and rate limits go to that Redis`.
    public static func notes(for environment: [String: String]) -> [String] {
        variables.compactMap { variable in
            guard nonEmpty(variable.name, environment) != nil else { return nil }
            let lead = "\(variable.name) is the original system's setting"
            switch variable.use {
            case .fallback where nonEmpty(variable.replacement, environment) == nil:
                return "\(lead); Warden reads \(variable.replacement) (used \(variable.name) because \(variable.replacement) is unset): \(variable.note)"
            case .fallback:
                return "\(lead); Warden reads \(variable.replacement) (ignored \(variable.name) because \(variable.replacement) is set): \(variable.note)"
            case .ignored:
                return "\(lead); Warden does not read it (replaced by \(variable.replacement)): \(variable.note)"
            }
        }
    }

    private static func nonEmpty(_ name: String, _ environment: [String: String]) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
