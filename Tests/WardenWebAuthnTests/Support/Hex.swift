import WardenCore

/// Hex test vectors as bytes.
func hex(_ text: String) -> [UInt8] {
    guard let bytes = Hex.decode(text) else { fatalError("bad hex in a test vector") }
    return bytes
}
