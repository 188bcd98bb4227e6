/// A map with a fixed capacity that, when full, makes room by evicting its least recently used entry.
///
/// Used for keys derived at great cost (legacy PBKDF2): a full cache never flushes, so a key in use stays
/// cached however many others an attacker makes Warden derive, and each new entry costs one eviction.
/// Eviction scans the entries, which is cheap at the sizes used here (hundreds) next to a derivation.
struct RecentlyUsedCache<Key: Hashable, Value> {
    private var entries: [Key: (value: Value, lastUse: UInt64)] = [:]
    private var uses: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a cache needs room for one entry")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The value cached for `key`, which becomes the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard let entry = entries[key] else { return nil }
        uses += 1
        entries[key] = (entry.value, uses)
        return entry.value
    }

    /// Caches `value` for `key` as the most recently used, evicting the least recently used entry if full.
    mutating func insert(_ value: Value, for key: Key) {
        if entries[key] == nil, entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            entries[oldest] = nil
        }
        uses += 1
        entries[key] = (value, uses)
    }
}
