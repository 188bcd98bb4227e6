extension UInt8 {
    /// `A`–`Z`, `a`–`z` or `0`–`9`.
    var isASCIIAlphanumeric: Bool {
        (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || (0x30...0x39).contains(self)
    }
}
