#include "CWardenExecutorHook.h"

#include <stddef.h>
#include <stdint.h>

// Declared by the Swift runtime (swift/Runtime/Concurrency.h, `SWIFT_CC(swift)`): runs `job` on the thread
// that calls it, as if on `executor`. A `SerialExecutorRef` is two words, passed as two arguments; both
// zero is the generic executor (no isolation), which is what the global executor's own threads run with.
extern __attribute__((swiftcall)) void swift_job_run(void *job, void *identity, uintptr_t implementation);

// Declared by the Swift runtime (swift/Runtime/Concurrency.h); defined in libswift_Concurrency.
extern void *swift_task_enqueueGlobal_hook;

bool cwarden_install_enqueue_global_hook(void *_Nonnull hook) {
    void *expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

bool cwarden_enqueue_global_hook_is_set(void) {
    return __atomic_load_n(&swift_task_enqueueGlobal_hook, __ATOMIC_SEQ_CST) != NULL;
}

void cwarden_run_job_on_generic_executor(void *_Nonnull job) {
    swift_job_run(job, NULL, 0);
}
