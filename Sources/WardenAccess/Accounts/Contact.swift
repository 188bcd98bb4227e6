/// Checks email addresses and phone numbers: loose enough for real addresses, strict enough to keep out
/// what could be confused with other data.
public enum Contact {
    public static func validate(email: String?, phone: String?) throws(AccessError) {
        if let email {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
                !email.contains(where: { $0.isWhitespace || $0 == ":" || $0 == "/" || $0.asciiValue.map { $0 < 0x20 } ?? false })
            else { throw AccessError(.invalidContact, "the email address is not valid") }
        }
        if let phone {
            let digits = phone.dropFirst()
            guard phone.first == "+", (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw AccessError(.invalidContact, "the phone number must be in international format: + and 8 to 15 digits")
            }
        }
    }
}
