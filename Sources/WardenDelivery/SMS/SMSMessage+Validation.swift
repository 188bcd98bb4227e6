extension SMSMessage {
    /// Checks the number and the text before anything is sent.
    ///
    /// - Throws: ``DeliveryError/Code/rejected`` for a number that is not E.164 or an empty text.
    func validate() throws(DeliveryError) {
        guard Self.isE164(to) else {
            throw DeliveryError(.rejected, "the recipient number is not in E.164 form (+ and up to 15 digits)")
        }
        guard !body.isEmpty else {
            throw DeliveryError(.rejected, "the text message is empty")
        }
    }

    /// `+`, a non-zero digit, then 1 to 14 more digits.
    static func isE164(_ number: String) -> Bool {
        let bytes = Array(number.utf8)
        guard (3...16).contains(bytes.count), bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else { return false }
        return bytes.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
