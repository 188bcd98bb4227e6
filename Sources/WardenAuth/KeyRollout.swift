public import Foundation
public import WardenCore
public import WardenCrypto
public import WardenSessions

/// Key rotation across nodes in two phases, so that no node seals or signs with a key another node
/// cannot yet use.
///
/// 1. **Publish.** A new field-key version is added above the primary (every node that has re-read the
///    keyring opens with it; none seals with it), and a new token signing key is stored without signing
///    (it is in the JWKS and verifies).
/// 2. **Promote.** It becomes the primary (the signing key) once every live node has reported holding it
///    in the ``NodeRegistry``, or once this node has seen it published for the propagation interval,
///    whichever comes first.
///
/// Each node runs ``run(every:onError:)``: at every interval, and at once when woken by a key-change
/// notification (``wake()``), it re-reads the keys, reports what it holds, promotes what every live node
/// holds, and publishes what is due. The propagation interval is measured on this node's monotonic
/// clock from the moment it first saw the published key, and liveness by the registry's clock (the
/// database server's), so a node whose wall clock is wrong can neither promote early nor be taken for
/// dead.
public actor KeyRollout {
    /// When keys move.
    public struct Policy: Sendable, Equatable {
        /// How often a node re-reads the keys when no notification comes (the fallback).
        public var reloadInterval: TimeInterval
        /// How long a published key waits at most for acknowledgements (default 2× the reload interval).
        public var propagationInterval: TimeInterval
        /// A node that has not reported for this long is not waited for (default 3× the reload interval).
        public var liveness: TimeInterval

        public init(reloadInterval: TimeInterval = 30, propagationInterval: TimeInterval? = nil, liveness: TimeInterval? = nil) {
            self.reloadInterval = reloadInterval
            self.propagationInterval = propagationInterval ?? 2 * reloadInterval
            self.liveness = liveness ?? 3 * reloadInterval
        }
    }

    /// What a step changed (for logs and tests).
    public struct Step: Sendable, Equatable {
        public var publishedFieldVersion: UInt32?
        public var promotedFieldVersion: UInt32?
        public var publishedSigningKey = false
        public var promotedSigningKey: String?
    }

    public let cipher: FieldCipher
    public let keys: TokenKeys
    let registry: (any NodeRegistry)?
    /// This node's name in the registry; `nil` for a command, which reports nothing.
    public let node: String?
    /// Whether this process signs tokens (a server), so that it rolls signing keys out too.
    let managesSigningKeys: Bool
    /// Whether steps re-read and promote signing keys: a server always; a command once it has rotated one.
    private var watchesSigningKeys: Bool
    public let policy: Policy
    private var firstSeenField: (version: UInt32, at: ContinuousClock.Instant)?
    private var firstSeenKID: (kid: String, at: ContinuousClock.Instant)?
    private let wakes: AsyncStream<Void>
    private let waker: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - registry: Where nodes report; `nil` when this process is alone with its keys (memory or file
    ///     stores), and rotations take effect at once.
    ///   - node: This node's name (see ``makeNodeName()``), or `nil` for a command.
    public init(
        cipher: FieldCipher, keys: TokenKeys, registry: (any NodeRegistry)?, node: String?, managesSigningKeys: Bool, policy: Policy
    ) {
        self.cipher = cipher
        self.keys = keys
        self.registry = registry
        self.node = node
        self.managesSigningKeys = managesSigningKeys
        self.watchesSigningKeys = managesSigningKeys
        self.policy = policy
        (wakes, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// A node name, unique per process start.
    public static func makeNodeName() -> String {
        "node-" + Hex.encode(Data((0..<8).map { _ in UInt8.random(in: 0...255) }))
    }

    /// Whether rotations go through the two phases.
    public nonisolated var isTwoPhase: Bool { registry != nil }

    /// Asks the running loop for a step now (a key-change notification arrived).
    public nonisolated func wake() {
        waker.yield()
    }

    /// Steps every reload interval and whenever woken, until cancelled; then removes this node from the
    /// registry (a node that shut down is not waited for).
    public func run(onError: @Sendable (any Error) -> Void = { _ in }) async {
        let interval = policy.reloadInterval
        let timer = Task { [waker] in
            while (try? await Task.sleep(for: .seconds(interval))) != nil { waker.yield() }
        }
        defer { timer.cancel() }
        for await _ in wakes {
            if Task.isCancelled { break }
            do { _ = try await step() } catch is CancellationError { break } catch { onError(error) }
        }
        // Leave the registry (and clear nodes gone for a day), in a task of its own: this one is
        // cancelled, and the store's own wait bounds the work.
        if let registry, let node {
            await Task { try? await registry.forget(node: node, staleAfter: 86_400) }.value
        }
    }

    /// One step: re-read the keys, report what this node holds, promote what every live node holds,
    /// publish what is due.
    @discardableResult
    public func step(publishingWhenDue: Bool = true) async throws -> Step {
        var step = Step()
        try await cipher.refresh()
        if watchesSigningKeys { try await keys.reloadOnly() }
        try await report()
        try await promoteIfReady(&step)
        guard publishingWhenDue, isTwoPhase else { return step }
        if cipher.configuration.rotatesWhenDue, try await cipher.publishIfDue() {
            step.publishedFieldVersion = cipher.keyring.publishedVersion?.version
        }
        if managesSigningKeys, await keys.rotationDue {
            try await keys.publish()
            step.publishedSigningKey = true
        }
        if step.publishedFieldVersion != nil || step.publishedSigningKey {
            // Alone, or with every other node quick to report, the promotion need not wait a whole interval.
            try await report()
            try await promoteIfReady(&step)
        }
        return step
    }

    /// Rotates the field key as far as is safe now: alone, at once; with other nodes, publishes a new
    /// version and promotes it if every live node already holds it (else a later step does).
    public func rotateFieldKey() async throws -> Keyring {
        guard isTwoPhase else { return try await cipher.rotate() }
        try await cipher.publish()
        try await step(publishingWhenDue: false)
        return cipher.keyring
    }

    /// Rotates the token signing key the same way. A command (which signs nothing and has not loaded the
    /// signing keys) loads them first, and from then on its steps promote the published key like a
    /// server's.
    public func rotateSigningKey() async throws {
        if !watchesSigningKeys {
            watchesSigningKeys = true
            try await keys.reloadOnly()
        }
        guard isTwoPhase else { return try await keys.rotate() }
        try await keys.publish()
        try await step(publishingWhenDue: false)
    }

    private func report() async throws {
        guard let registry, let node else { return }
        let kids = managesSigningKeys ? await keys.loadedKIDs : []
        try await registry.report(node: node, fieldKeyVersion: cipher.keyring.highestOpenableVersion, signingKeys: kids)
    }

    private func promoteIfReady(_ step: inout Step) async throws {
        guard let registry else { return }
        // Who is live is judged by the registry's clock (the database server's), not this node's.
        let live = try await registry.nodes(seenWithin: policy.liveness)
        let now = ContinuousClock.now
        let waited = Duration.seconds(policy.propagationInterval)
        if let published = cipher.keyring.publishedVersion?.version {
            if firstSeenField?.version != published { firstSeenField = (published, now) }
            let held = live.allSatisfy { $0.fieldKeyVersion >= published }
            if held || now - firstSeenField!.at >= waited {
                try await cipher.promote(published)
                step.promotedFieldVersion = published
            }
        }
        guard watchesSigningKeys, let kid = await keys.publishedKID else { return }
        if firstSeenKID?.kid != kid { firstSeenKID = (kid, now) }
        let held = live.allSatisfy { $0.signingKeys.contains(kid) }
        if held || now - firstSeenKID!.at >= waited {
            try await keys.promote(kid)
            step.promotedSigningKey = kid
        }
    }
}
