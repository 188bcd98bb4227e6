import Testing
import WardenAccess

/// NIST SP 800-63B password rules.
struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    @Test(arguments: [
        "correct horse battery staple", "Tr0ub4dor&3 is not enough but this is", "ÄÖÜ sind auch schöne Zeichen", "🔐🔑 emoji count too 🔒🗝️",
        "twelve chars", String(repeating: "xy", count: 64), "パスワードはとても長いです",
    ])
    func goodPasswordsAreAccepted(_ password: String) throws {
        try policy.check(password, username: "alice")
    }

    @Test(arguments: [
        ("short", "at least 12 characters"),
        ("elevenchars", "at least 12 characters long (it has 11)"),
        ("q1w2e3r4t5y6", "commonly used"),
        ("QWERTY123456", "commonly used"),
        ("1qaz2wsx3edc", "commonly used"),
        ("friend of emily", "commonly used"),
        ("fallen_angel", "commonly used"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
        ("abcdefghijklmnop", "consecutive characters"),
        ("ponmlkjihgfedcba", "consecutive characters"),
        ("my name is alice and I like it", "must not contain the username"),
        (String(repeating: "ab", count: 129), "at most 256 characters"),
    ])
    func weakPasswordsAreRefusedWithAClearMessage(_ password: String, _ reason: String) throws {
        let error = try #require(throws: AccessError.self) { try policy.check(password, username: "Alice") }
        #expect(error.code == .weakPassword)
        #expect(error.message.contains(reason), "\(error.message)")
        #expect(!error.message.contains(password))
    }

    @Test func lengthCountsCharactersAfterNormalisation() throws {
        // Eleven emoji with modifiers are eleven characters, not 40-odd bytes.
        let emoji = String(repeating: "👍🏽", count: 11)
        let error = try #require(throws: AccessError.self) { try policy.check(emoji) }
        #expect(error.message.contains("it has 11"))
        // Full-width letters normalise (NFKC) to ASCII, so a common password in full width is still common.
        #expect(throws: AccessError.self) { try policy.check("ｑ１ｗ２ｅ３ｒ４ｔ５ｙ６") }
    }

    @Test func limitsAreConfigurableWithinNISTBounds() throws {
        let longer = PasswordPolicy(minimumLength: 16, maximumLength: 512)
        #expect(throws: AccessError.self) { try longer.check("fifteen chars!!") }
        try longer.check(String(repeating: "word ", count: 100))
    }
}
