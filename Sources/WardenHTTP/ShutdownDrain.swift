public import Hummingbird
public import Logging
public import ServiceLifecycle
import Synchronization

/// Whether the server is shutting down: once set, `/health/ready` answers 503 so that a load balancer
/// stops sending new requests before the listening socket closes.
public final class ShutdownState: Sendable {
    private let draining = Atomic(false)

    public init() {}

    /// Whether a graceful shutdown has begun.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the server as shutting down (readiness answers 503 from now on).
    public func beginDraining() { draining.store(true, ordering: .relaxed) }
}

/// `warden serve`'s HTTP server with its shutdown sequence, as one service.
///
/// When a graceful shutdown begins (SIGTERM or SIGINT in `warden serve`):
/// 1. readiness turns 503 and stays so for `drain` (connections are still accepted and served, so a load
///    balancer that probes readiness notices before anything is refused);
/// 2. the listening socket closes (new connections are refused), idle keep-alive connections close, and
///    requests in flight finish, for at most `grace`;
/// 3. the background jobs stop (they run inside the application's service group, after the server).
///
/// Requests still running after `drain + grace` are cancelled (their connections close), and so are
/// background jobs still running then: the sequence always ends.
public struct DrainingServer<Application: ApplicationProtocol>: Service, CustomStringConvertible {
    let application: Application
    let state: ShutdownState
    let drain: Duration
    let grace: Duration
    let logger: Logger

    public init(application: Application, state: ShutdownState, drain: Duration, grace: Duration, logger: Logger) {
        self.application = application
        self.state = state
        self.drain = drain
        self.grace = grace
        self.logger = logger
    }

    /// What swift-service-lifecycle logs for the service (not a dump of its fields).
    public var description: String { "WardenServer" }

    public func run() async throws {
        // A service group shuts its services down in reverse order: the drain first, then the application.
        var configuration = ServiceGroupConfiguration(
            services: [application, ReadinessDrain(state: state, period: drain, logger: logger)], logger: logger)
        // Past this, the group cancels the application (no cancellation limit: swift-service-lifecycle
        // would crash the process; `warden serve`'s watchdog is the last resort instead).
        configuration.maximumGracefulShutdownDuration = drain + grace
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Waits for a graceful shutdown, then marks the server as draining and waits `period` before returning
/// (which lets the service group go on to stop the server).
struct ReadinessDrain: Service, CustomStringConvertible {
    let state: ShutdownState
    let period: Duration
    let logger: Logger

    var description: String { "ReadinessDrain" }

    func run() async throws {
        // Cancelled (the group ends for another reason): nothing to drain.
        guard (try? await gracefulShutdown()) != nil else { return }
        state.beginDraining()
        logger.notice(
            "shutting down: readiness answers 503; new connections are refused after the drain period",
            metadata: ["drain_seconds": .stringConvertible(period.components.seconds)])
        try? await Task.sleep(for: period)
    }
}
