import Foundation

/// Username rules, after NFKC normalisation:
///
/// - 1 to 64 Unicode scalars (not grapheme clusters: a letter with 60,000 combining marks is 60,001),
///   no leading or trailing space;
/// - letters (with their combining marks, at most 2 after each) from **one** of these scripts: Latin,
///   Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai, or CJK (Han, Hiragana, Katakana and Hangul
///   together, as Japanese and Korean names mix them); plus ASCII digits, space and `. _ - @ +`.
///
/// One script per name stops look-alike names (a Cyrillic `а` in a Latin `admin`); anything outside the
/// list — symbols, emoji, invisible format characters, other scripts — is refused. Uniqueness ignores
/// case (and character width, through NFKC). docs/access.md states the same.
public enum Username {
    static let maximumLength = 64
    static let maximumMarksPerLetter = 2

    enum Script: Hashable {
        case latin, greek, cyrillic, hebrew, arabic, devanagari, thai, cjk
    }

    /// The normalised username, or an error saying what is wrong.
    public static func normalize(_ raw: String) throws(AccessError) -> (username: String, key: String) {
        let username = raw.precomposedStringWithCompatibilityMapping
        let count = username.unicodeScalars.count
        guard count > 0, count <= maximumLength else {
            throw AccessError(.invalidUsername, "a username must be 1 to \(maximumLength) characters")
        }
        guard username.trimmingCharacters(in: .whitespaces) == username else {
            throw AccessError(.invalidUsername, "a username must not start or end with a space")
        }
        var script: Script?
        var marks = 0
        var afterLetter = false
        for scalar in username.unicodeScalars {
            let value = scalar.value
            if (0x30...0x39).contains(value) || [0x20, 0x2E, 0x5F, 0x2D, 0x40, 0x2B].contains(value) {
                afterLetter = false
                continue
            }
            let category = scalar.properties.generalCategory
            let isMark = category == .nonspacingMark || category == .spacingMark || category == .enclosingMark
            let isLetter = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter].contains(category)
            guard isMark || isLetter, let found = Self.script(of: value) ?? (isMark && (0x0300...0x036F).contains(value) ? script : nil) else {
                throw AccessError(.invalidUsername, "a username may contain letters of one script, digits, spaces and . _ - @ + only")
            }
            if let script, script != found {
                throw AccessError(.invalidUsername, "a username must not mix scripts")
            }
            script = found
            if isMark {
                marks += 1
                guard afterLetter, marks <= maximumMarksPerLetter else {
                    throw AccessError(.invalidUsername, "a username may have at most \(maximumMarksPerLetter) accents on a letter")
                }
            } else {
                marks = 0
                afterLetter = true
            }
        }
        return (username, key(username))
    }

    /// The script a letter or script-specific mark belongs to (combining diacritics 0300–036F take the
    /// script of the name).
    static func script(of value: UInt32) -> Script? {
        switch value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: .latin
        case 0x370...0x3FF, 0x1F00...0x1FFF: .greek
        case 0x400...0x52F: .cyrillic
        case 0x591...0x5C7, 0x5D0...0x5EA: .hebrew
        case 0x610...0x61A, 0x620...0x65F, 0x671...0x6D3: .arabic
        case 0x900...0x97F: .devanagari
        case 0xE01...0xE4E: .thai
        case 0x1100...0x11FF, 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7A3: .cjk
        default: nil
        }
    }

    /// The uniqueness key of an already normalised username.
    static func key(_ username: String) -> String {
        username.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }
}
