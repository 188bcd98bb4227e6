import Crypto
import WardenCore

/// Walks the whole audit chain and reports the first entry that is missing, out of place, edited or
/// not authentic.
public struct AuditVerifier: Sendable {
    /// The outcome of a verification.
    public enum Result: Sendable, Equatable, CustomStringConvertible {
        /// Every entry links, hashes and authenticates, and the head matches the last one.
        case intact(entries: Int64)
        /// The first problem found, at `sequence` (the sequence number expected or found there).
        case broken(sequence: Int64, reason: String)

        public var description: String {
            switch self {
            case .intact(let count): "intact: \(count) entries"
            case .broken(let sequence, let reason): "broken at entry \(sequence): \(reason)"
            }
        }
    }

    let chain: AuditChain
    let pageSize: Int

    public init(chain: AuditChain, pageSize: Int = 1000) {
        self.chain = chain
        self.pageSize = pageSize
    }

    public func verify(_ log: some AuditLogReader) async throws -> Result {
        var expected: Int64 = 1
        var previous = AuditChain.genesis
        while true {
            let page = try await log.entries(after: expected - 1, limit: pageSize)
            for entry in page {
                if entry.sequence != expected {
                    return .broken(sequence: expected, reason: entry.sequence > expected ? "entry missing" : "entry out of sequence")
                }
                if entry.previousHash != previous {
                    return .broken(sequence: expected, reason: "does not link to the previous entry")
                }
                if AuditChain.hash(sequence: entry.sequence, event: entry.event, previousHash: entry.previousHash) != entry.hash {
                    return .broken(sequence: expected, reason: "contents do not match the hash (edited)")
                }
                if !chain.isAuthentic(entry) {
                    return .broken(sequence: expected, reason: "MAC does not verify (rewritten without the key)")
                }
                previous = entry.hash
                expected += 1
            }
            if page.count < pageSize { break }
        }
        let count = expected - 1
        guard let head = try await log.head() else {
            return count == 0 ? .intact(entries: 0) : .broken(sequence: count, reason: "the chain head is missing")
        }
        guard chain.isAuthentic(head) else {
            return .broken(sequence: head.sequence, reason: "the chain head's MAC does not verify")
        }
        if head.sequence > count {
            return .broken(sequence: count + 1, reason: "entry missing (the log ends before its head, \(head.sequence))")
        }
        if head.sequence < count || head.hash != previous {
            return .broken(sequence: head.sequence, reason: "the chain head does not match the last entry")
        }
        return .intact(entries: count)
    }
}
