#include "CWardenExecutorHook.h"

#include <stddef.h>

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
