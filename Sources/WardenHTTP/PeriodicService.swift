public import Logging
public import ServiceLifecycle

/// Work `warden serve` repeats while it runs, as a service of the application's service group: started
/// with the server, cancelled when a graceful shutdown begins (the group then awaits it), and every failure
/// logged with the job's name — never swallowed. What is logged of a failure is its type, not its text
/// (a store's error may quote a statement or a value).
public struct PeriodicService: Service, CustomStringConvertible {
    public let name: String
    public let every: Duration
    /// Whether the first run waits one interval (work the start-up already did).
    public var waitFirst: Bool
    let logger: Logger
    let body: @Sendable () async throws -> Void

    public init(name: String, every: Duration, waitFirst: Bool = true, logger: Logger, body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.every = every
        self.waitFirst = waitFirst
        self.logger = logger
        self.body = body
    }

    public var description: String { name }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            if waitFirst, (try? await Task.sleep(for: every)) == nil { return }
            while !Task.isCancelled {
                do {
                    try await body()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("background job failed", metadata: ["job": .string(name), "error": .string(String(describing: type(of: error)))])
                }
                if (try? await Task.sleep(for: every)) == nil { return }
            }
        }
    }
}

/// Runs `body` once, as a service of the application's group, cancelled at graceful shutdown: for work
/// that keeps its own loop (a listener, a loop woken by notifications). When `body` returns before the
/// shutdown (a listener with nothing to listen to), the service waits for the shutdown.
public struct TaskService: Service, CustomStringConvertible {
    public let name: String
    let body: @Sendable () async -> Void

    public init(name: String, body: @escaping @Sendable () async -> Void) {
        self.name = name
        self.body = body
    }

    public var description: String { name }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await body()
            // A service that ends early ends the whole group: work with nothing (more) to do waits for
            // the shutdown instead.
            while (try? await Task.sleep(for: .seconds(3600))) != nil {}
        }
    }
}
