import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WardenHTTP

/// Background jobs as services: a failure is logged with the job's name and the job runs again; a graceful
/// shutdown of the group ends the job promptly, mid-wait.
struct PeriodicServiceTests {
    /// Collects log records.
    final class Capture: Sendable {
        let records = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])

        struct Handler: LogHandler {
            let capture: Capture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                capture.records.withLock { $0.append((event.level, event.message.description, event.metadata ?? [:])) }
            }
        }

        var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }
    }

    struct Boom: Error {}

    @Test func failuresAreLoggedAndTheJobRunsAgainUntilShutdown() async throws {
        let capture = Capture()
        let runs = Atomic<Int>(0)
        let job = PeriodicService(name: "flaky job", every: .milliseconds(20), waitFirst: false, logger: capture.logger) {
            if runs.wrappingAdd(1, ordering: .relaxed).newValue % 2 == 1 { throw Boom() }
        }
        // A long-running neighbour keeps the group up while the job works.
        let group = ServiceGroup(configuration: .init(services: [.init(service: job)], logger: Logger(label: "group") { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        while runs.load(ordering: .relaxed) < 6 { try await Task.sleep(for: .milliseconds(10)) }
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(60), "a graceful shutdown ends a running job")
        let failures = capture.records.withLock { $0.filter { $0.0 == .error } }
        #expect(failures.count >= 3)
        #expect(failures.allSatisfy { $0.1 == "background job failed" && $0.2["job"] == "flaky job" && $0.2["error"] == "Boom" })
        let after = runs.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(100))
        #expect(runs.load(ordering: .relaxed) == after, "nothing runs after shutdown")
    }

    @Test func aShutdownDuringTheFirstWaitEndsTheJobWithoutRunningIt() async throws {
        let runs = Atomic<Int>(0)
        let job = PeriodicService(name: "hourly", every: .seconds(3_600), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) {
            runs.wrappingAdd(1, ordering: .relaxed)
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: job)], logger: Logger(label: "group") { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(60), "not after the hour it was waiting")
        #expect(runs.load(ordering: .relaxed) == 0)
    }
}
