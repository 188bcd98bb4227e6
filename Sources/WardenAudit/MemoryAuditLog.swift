import Crypto
import Synchronization
public import WardenCore

/// An audit log in memory, for tests and the in-memory stores.
///
/// Appends are synchronous (guarded by a lock), so a store actor can append and apply a change with no
/// suspension point in between.
public final class MemoryAuditLog: AuditAppender, AuditLogReader {
    private struct State {
        var entries: [AuditEntry] = []
        var head: AuditHead?
        var isWritable = true
    }

    let chain: AuditChain
    private let state = Mutex(State())

    public init(chain: AuditChain) {
        self.chain = chain
    }

    public func append(_ events: [AuditEvent]) throws {
        try state.withLock { state in
            guard state.isWritable else { throw AuditError(.unavailable, "the audit log cannot be written") }
            let (entries, head) = chain.append(events, after: state.head)
            state.entries += entries
            state.head = head
        }
    }

    /// When false, appends fail: to test that actions fail closed.
    public func setWritable(_ writable: Bool) {
        state.withLock { $0.isWritable = writable }
    }

    public func head() -> AuditHead? { state.withLock { $0.head } }

    public func entries(after sequence: Int64, limit: Int) -> [AuditEntry] {
        state.withLock { Array($0.entries.filter { $0.sequence > sequence }.prefix(limit)) }
    }

    public func latest(limit: Int) -> [AuditEntry] {
        state.withLock { Array($0.entries.suffix(limit)) }
    }

    /// The events appended so far.
    public var events: [AuditEvent] { state.withLock { $0.entries.map(\.event) } }

    /// Changes the stored entries and head as an attacker with write access might (tests only).
    public func tamper(_ change: (inout [AuditEntry], inout AuditHead?) -> Void) {
        state.withLock { change(&$0.entries, &$0.head) }
    }
}
