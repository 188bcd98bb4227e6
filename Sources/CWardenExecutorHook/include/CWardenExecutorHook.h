#ifndef CWARDEN_EXECUTOR_HOOK_H
#define CWARDEN_EXECUTOR_HOOK_H

#include <stdbool.h>

/// Sets the Swift concurrency runtime's `swift_task_enqueueGlobal_hook` (the function through which every
/// job for the global executor then passes) to `hook`, if no hook is set yet. Returns whether it was set.
///
/// The hook is reached by a direct reference that the linker resolves, not by `dlsym`: in a binary built
/// with `--static-swift-stdlib` the runtime is linked with `--exclude-libs ALL`, so its symbols are not in
/// the dynamic symbol table and `dlsym` cannot find them (NIO's own take-over looks the hook up that way,
/// and in such a binary it returns false and leaves every task on Swift's pool).
bool cwarden_install_enqueue_global_hook(void *_Nonnull hook);

/// Whether `swift_task_enqueueGlobal_hook` is set.
bool cwarden_enqueue_global_hook_is_set(void);

/// Runs `job` (a job the global executor was given) on the calling thread as the global executor's own
/// threads run it: on the generic executor, not isolated to anything. Run this way, a task's next call into
/// a nonisolated async function continues on the same thread at once; run as isolated to the event loop
/// (what `EventLoop.enqueue(_:)` does), each such call was a new job on the loop's queue.
void cwarden_run_job_on_generic_executor(void *_Nonnull job);

#endif
