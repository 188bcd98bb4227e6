import Foundation

/// Username rules: 1 to 64 characters after NFKC normalisation, no control characters, no leading or
/// trailing spaces, not an email-like string that could be confused with another account's email.
/// Uniqueness ignores case.
enum Username {
    static let maximumLength = 64

    /// The normalised username, or an error saying what is wrong.
    static func normalize(_ raw: String) throws(AccessError) -> (username: String, key: String) {
        let username = raw.precomposedStringWithCompatibilityMapping
        guard !username.isEmpty, username.count <= maximumLength else {
            throw AccessError(.invalidUsername, "a username must be 1 to \(maximumLength) characters")
        }
        guard username.trimmingCharacters(in: .whitespaces) == username else {
            throw AccessError(.invalidUsername, "a username must not start or end with a space")
        }
        guard !username.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) || $0 == "/" || $0 == ":" }) else {
            throw AccessError(.invalidUsername, "a username must not contain control characters, '/' or ':'")
        }
        return (username, key(username))
    }

    /// The uniqueness key of an already normalised username.
    static func key(_ username: String) -> String {
        username.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }
}
