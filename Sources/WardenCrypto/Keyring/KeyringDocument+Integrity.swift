import Crypto
import Foundation
import WardenCore

extension KeyringDocument {
    /// The canonical bytes the MAC covers: a label, then every field except `mac`, as fixed-width
    /// big-endian integers and length-prefixed byte strings.
    func canonicalBytes() -> [UInt8] {
        var out = Array("warden/keyring/document/v1".utf8)
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        }
        func put(string: String?) {
            guard let string else { return put(UInt32.max) }
            let bytes = Array(string.utf8)
            put(UInt32(bytes.count))
            out.append(contentsOf: bytes)
        }
        put(Int64(format))
        put(generation)
        put(string: masterKeyCheck)
        put(primaryVersion)
        put(minimumDecryptionVersion)
        put(UInt32(versions.count))
        for entry in versions {
            put(entry.version)
            put(Int64(entry.created.timeIntervalSince1970.rounded(.down)))
            put(entry.sealsReserved)
            put(string: entry.wrappedKey)
            put(entry.destroyed.map { Int64($0.timeIntervalSince1970.rounded(.down)) } ?? Int64.min)
        }
        return out
    }

    func computeMAC(with masterKey: MasterKey) -> String {
        Base64.encode(Array(HMAC<SHA256>.authenticationCode(for: canonicalBytes(), using: masterKey.integrityKey)))
    }

    /// Checks, in order, that the document was written under this master key and that it has not been
    /// changed since: first the check value (a wrong key gets its own error, before anything is
    /// written), then the MAC.
    func verify(with masterKey: MasterKey) throws(WardenCryptoError) {
        guard let check = Base64.decode(masterKeyCheck),
            constantTimeEqual(check, Array(masterKey.checkValue))
        else {
            throw WardenCryptoError(
                .wrongMasterKey,
                "the master key does not match this keyring (check value mismatch); nothing was changed")
        }
        guard let tag = Base64.decode(mac),
            HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: canonicalBytes(), using: masterKey.integrityKey)
        else {
            throw WardenCryptoError(.keyringCorrupt, "the keyring document failed its integrity check (edited outside Warden?)")
        }
    }

    /// Bumps the generation and recomputes the MAC after a change.
    mutating func reseal(with masterKey: MasterKey) {
        generation += 1
        mac = computeMAC(with: masterKey)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
    return difference == 0
}
