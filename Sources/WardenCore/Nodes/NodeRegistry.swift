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
    /// When the node reported (its own clock).
    public var seen: Date

    public init(node: String, fieldKeyVersion: UInt32, signingKeys: [String], seen: Date) {
        self.node = node
        self.fieldKeyVersion = fieldKeyVersion
        self.signingKeys = signingKeys
        self.seen = seen
    }
}

/// Where running nodes report the keys they hold (SQL in Warden, shared by every node; memory in tests).
public protocol NodeRegistry: Sendable {
    /// Records `report`, replacing the node's previous one.
    func report(_ report: NodeKeyReport) async throws
    /// The nodes that reported at or after `date`: the live ones.
    func nodes(seenSince date: Date) async throws -> [NodeKeyReport]
    /// Removes a node (at a clean shutdown) and reports older than `staleBefore`.
    func forget(node: String, staleBefore: Date) async throws
}

/// A node registry in memory (tests, and several runtimes in one process).
public actor MemoryNodeRegistry: NodeRegistry {
    private var reports: [String: NodeKeyReport] = [:]

    public init() {}

    public func report(_ report: NodeKeyReport) {
        reports[report.node] = report
    }

    public func nodes(seenSince date: Date) -> [NodeKeyReport] {
        reports.values.filter { $0.seen >= date }.sorted { $0.node < $1.node }
    }

    public func forget(node: String, staleBefore: Date) {
        reports[node] = nil
        reports = reports.filter { $0.value.seen >= staleBefore }
    }
}
