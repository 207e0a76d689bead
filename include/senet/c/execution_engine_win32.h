/* SPDX-License-Identifier: BSL-1.0 */
#ifndef SENET_C_EXECUTION_ENGINE_WIN32_H
#define SENET_C_EXECUTION_ENGINE_WIN32_H

/** The Windows side of the execution engine (`execution_engine.h`): its settings and its thread
    pool.

    On Windows an execution engine owns a Win32 thread pool of its own (`CreateThreadpool`), on
    which every `async_socket` created with that engine runs its completions (through
    `CreateThreadpoolIo`). The pool is closed when the engine's last reference is released.
    This header exists on Windows only; on Linux including it is an error.
*/

#ifndef _WIN32
#error \
    "senet/c/execution_engine_win32.h is for Windows; on Linux the engine has no settings (execution_engine.h)"
#endif

#include <stdint.h>
#include <windows.h>

#include <senet/c/execution_engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The minimum number of threads of an engine's pool when no parameters are given. */
#define EXECUTION_ENGINE_WIN32_DEFAULT_MIN_THREAD_COUNT 4
/** No maximum of its own: the system's default maximum of a pool. */
#define EXECUTION_ENGINE_WIN32_DEFAULT_MAX_THREAD_COUNT 0

/** What `execution_engine_create` accepts on Windows (pass a pointer to one, or NULL for the
    defaults above). */
typedef struct EXECUTION_ENGINE_PARAMETERS_WIN32_TAG {
  uint32_t min_thread_count; /**< threads the pool keeps (`SetThreadpoolThreadMinimum`) */
  uint32_t max_thread_count; /**< at most this many (`SetThreadpoolThreadMaximum`); 0: no limit of
                                  ours. Must be 0 or at least `min_thread_count`, and at most
                                  `INT32_MAX`, or `execution_engine_create` returns NULL. */
} EXECUTION_ENGINE_PARAMETERS_WIN32;

/** The thread pool of `execution_engine` (valid while the caller holds a reference on the engine),
    or NULL if `execution_engine` is NULL. */
PTP_POOL execution_engine_win32_get_threadpool(EXECUTION_ENGINE_HANDLE execution_engine);

#ifdef __cplusplus
}
#endif

#endif /* SENET_C_EXECUTION_ENGINE_WIN32_H */
