public import Foundation

/// What one running node reports about the keys it has loaded: the acknowledgements a two-phase key
/// rollout waits for before a published key starts to seal or sign.
public struct NodeKeyReport: Sendable, Hashable {
    /// The node's identifier (random per process start).
    public var node: String
    /// The highest field-key version the node can open.
    public var fieldKeyVersion: UInt32
    /// Every token signing key (`kid`) the node verifies.
    public var signingKeys: [String]
    /// When the node last reported, by the registry's clock.
    public var seen: Date

    public init(node: String, fieldKeyVersion: UInt32, signingKeys: [String], seen: Date) {
        self.node = node
        self.fieldKeyVersion = fieldKeyVersion
        self.signingKeys = signingKeys
        self.seen = seen
    }
}

/// Where running nodes report the keys they hold (SQL in Warden, shared by every node; memory in tests).
///
/// Reports are dated, and liveness is judged, by the **registry's** clock (the database server's for
/// PostgreSQL), never by a node's: a node whose wall clock runs behind must not look dead to the others
/// (they would stop waiting for it and seal with a key it has not loaded), and a node whose clock runs
/// ahead must not keep a dead one looking alive.
public protocol NodeRegistry: Sendable {
    /// Records what `node` holds now, replacing its previous report.
    func report(node: String, fieldKeyVersion: UInt32, signingKeys: [String]) async throws
    /// The nodes that reported within the last `interval` seconds: the live ones.
    func nodes(seenWithin interval: TimeInterval) async throws -> [NodeKeyReport]
    /// Removes `node` (at a clean shutdown), and every report older than `staleAfter` seconds.
    func forget(node: String, staleAfter: TimeInterval) async throws
}

/// A node registry in memory (tests, and several runtimes in one process), dated by `clock`.
public actor MemoryNodeRegistry: NodeRegistry {
    private var reports: [String: NodeKeyReport] = [:]
    private let clock: any WallClock

    public init(clock: any WallClock = SystemWallClock()) {
        self.clock = clock
    }

    public func report(node: String, fieldKeyVersion: UInt32, signingKeys: [String]) {
        reports[node] = NodeKeyReport(node: node, fieldKeyVersion: fieldKeyVersion, signingKeys: signingKeys, seen: clock.now())
    }

    public func nodes(seenWithin interval: TimeInterval) -> [NodeKeyReport] {
        let since = clock.now().addingTimeInterval(-interval)
        return reports.values.filter { $0.seen >= since }.sorted { $0.node < $1.node }
    }

    public func forget(node: String, staleAfter: TimeInterval) {
        let staleBefore = clock.now().addingTimeInterval(-staleAfter)
        reports[node] = nil
        reports = reports.filter { $0.value.seen >= staleBefore }
    }
}
