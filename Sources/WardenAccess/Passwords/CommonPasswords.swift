/// Passwords too common to allow, shipped with Warden (see `CommonPasswords+List.swift` and NOTICE.md).
enum CommonPasswords {
    /// The list as a set of lowercase strings, built on first use.
    static let set: Set<Substring> = Set(list.split { $0 == "\n" || $0 == "\t" })

    static func contains(_ password: String) -> Bool {
        set.contains(Substring(password.lowercased()))
    }
}
