/// This process's seal reservations and seal counts per key version.
///
/// The store grants seals in batches (``KeyringPolicy/sealReservation``); the ledger spends them one by
/// one. The version being sealed with is kept on a fast path outside the dictionary, since every seal
/// touches it.
struct SealLedger {
    private struct Account {
        var available: UInt64 = 0
        var sealed: UInt64 = 0
    }

    private var currentVersion: UInt32 = 0
    private var current = Account()
    private var others: [UInt32: Account] = [:]

    /// Spends one reserved seal under `version`.
    ///
    /// - Returns: The seals still reserved afterwards, or `nil` when none was available (nothing spent).
    mutating func spend(_ version: UInt32) -> UInt64? {
        if version != currentVersion { switchTo(version) }
        guard current.available > 0 else { return nil }
        current.available -= 1
        current.sealed += 1
        return current.available
    }

    /// Records `count` more seals reserved under `version`.
    mutating func add(_ count: UInt64, for version: UInt32) {
        if version == currentVersion {
            current.available += count
        } else {
            others[version, default: Account()].available += count
        }
    }

    /// Seals performed under `version`.
    func sealed(_ version: UInt32) -> UInt64 {
        version == currentVersion ? current.sealed : others[version]?.sealed ?? 0
    }

    /// Removes and returns every unused reservation.
    mutating func drainUnused() -> [UInt32: UInt64] {
        var unused: [UInt32: UInt64] = [:]
        if current.available > 0 { unused[currentVersion] = current.available }
        current.available = 0
        for (version, account) in others where account.available > 0 {
            unused[version] = account.available
            others[version]?.available = 0
        }
        return unused
    }

    private mutating func switchTo(_ version: UInt32) {
        if currentVersion != 0 { others[currentVersion] = current }
        current = others.removeValue(forKey: version) ?? Account()
        currentVersion = version
    }
}
