import CWardenExecutorHook
import Foundation
import NIOCore
import NIOPosix

/// Runs Swift's tasks on NIO's event loops (one thread per core) instead of Swift's own pool: a request's
/// handler, its Redis reply and its response then stay on one thread, without the hand-over between pools
/// that cost a third of the server's CPU (docs/benchmarks.md).
///
/// This is what `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`
/// does, with one difference that matters for production: NIO finds the runtime's hook with `dlsym`, which
/// cannot see it in a binary built with `--static-swift-stdlib` (the runtime's symbols are not exported
/// there), so NIO's take-over fails silently in exactly the build that production runs. Here the hook is
/// reached by a reference the linker resolves (`CWardenExecutorHook`), in either build.
public enum EventLoopExecutor {
    /// What became of the take-over.
    public enum Outcome: String, Sendable {
        /// Every task for the global executor now runs on NIO's event loops.
        case installed
        /// Another hook was already set; tasks go where it sends them.
        case anotherHookSet = "another hook is set"
        /// This compiler's runtime may not have the hook's shape; tasks stay on Swift's pool.
        case unsupported
    }

    /// Installs NIO's event loops as Swift's global executor. Call once, from `main`, before any task
    /// starts.
    public static func install() -> Outcome {
        // The hook's shape is the runtime's and may change; this is the range NIO supports too.
        #if compiler(<6.6)
        typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: EnqueueGlobalHook = { job, _ in
            // `any()` is sticky: on one of the group's loops it is that loop, so no thread switch.
            // Not `enqueue(_:)`: the loop would run the job as isolated to itself (a custom serial
            // executor), and from there every call into a nonisolated async function — most of a
            // request's awaits — is a switch the runtime cannot make in place, so it queued the task
            // again: about 90 jobs per `GET /auth/sessions` (counted with uprobes), now 2 (the request's
            // arrival and Redis's reply). Run as the global executor's own threads run it, on the generic
            // executor, those calls continue at once on the same thread.
            MultiThreadedEventLoopGroup.singleton.any().execute {
                cwarden_run_job_on_generic_executor(unsafeBitCast(job, to: UnsafeMutableRawPointer.self))
            }
        }
        let pointer = unsafeBitCast(hook, to: UnsafeMutableRawPointer.self)
        return cwarden_install_enqueue_global_hook(pointer) ? .installed : .anotherHookSet
        #else
        return .unsupported
        #endif
    }

    /// Whether the environment keeps Swift's own pool (`WARDEN_EXECUTOR=swift`, read before anything
    /// starts; docs/configuration.md).
    public static var keepsSwiftsPool: Bool { ProcessInfo.processInfo.environment["WARDEN_EXECUTOR"] == "swift" }

    /// Whether a hook (this one or another) sends the global executor's jobs elsewhere than Swift's pool.
    public static var isHookSet: Bool { cwarden_enqueue_global_hook_is_set() }
}
