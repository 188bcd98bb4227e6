import Foundation

/// What a new password must be, after NIST SP 800-63B §5.1.1.2.
///
/// Length is counted in Unicode characters after NFKC normalisation; any character is allowed,
/// including spaces and emoji; there are no composition rules. Refused: passwords shorter than the
/// minimum (default 12) or longer than the maximum (default 256), passwords on the shipped list of
/// common passwords, passwords made of one repeated character or one run of consecutive characters,
/// and passwords that contain the username.
public struct PasswordPolicy: Sendable, Equatable {
    public var minimumLength: Int
    public var maximumLength: Int

    public init(minimumLength: Int = 12, maximumLength: Int = 256) {
        precondition(minimumLength >= 8 && maximumLength >= 128 && maximumLength >= minimumLength, "NIST SP 800-63B bounds")
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
    }

    /// Checks a new password.
    ///
    /// - Throws: ``AccessError/Code/weakPassword`` with a message that says what to change and never
    ///   repeats the password.
    public func check(_ password: String, username: String? = nil) throws(AccessError) {
        let normalized = password.precomposedStringWithCompatibilityMapping
        let length = normalized.count
        guard length >= minimumLength else {
            throw AccessError(.weakPassword, "the password must be at least \(minimumLength) characters long (it has \(length))")
        }
        guard length <= maximumLength else {
            throw AccessError(.weakPassword, "the password must be at most \(maximumLength) characters long")
        }
        if CommonPasswords.contains(normalized) {
            throw AccessError(.weakPassword, "this password is on the list of commonly used passwords; choose another")
        }
        let scalars = Array(normalized.lowercased().unicodeScalars)
        if Set(scalars).count == 1 {
            throw AccessError(.weakPassword, "the password must not be one character repeated")
        }
        let steps = zip(scalars.dropFirst(), scalars).map { Int($0.value) - Int($1.value) }
        if Set(steps).count == 1, let step = steps.first, abs(step) == 1 {
            throw AccessError(.weakPassword, "the password must not be a run of consecutive characters")
        }
        if let username, username.count >= 3,
            normalized.lowercased().contains(username.precomposedStringWithCompatibilityMapping.lowercased())
        {
            throw AccessError(.weakPassword, "the password must not contain the username")
        }
    }
}
