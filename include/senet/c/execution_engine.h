/* SPDX-License-Identifier: BSL-1.0 */
#ifndef SENET_C_EXECUTION_ENGINE_H
#define SENET_C_EXECUTION_ENGINE_H

/** The execution engine: the C API's handle on the thread that runs its asynchronous work.

    On Linux, all asynchronous work of the C API (the completions of `async_socket` operations)
    runs on one process-wide thread, the completion port's loop thread, which runs a senet
    `io_context` (io_uring when the kernel offers it, epoll otherwise). The thread is started by
    the first object that needs it (an execution engine or an `async_socket`) and stopped when
    the last of them is released; no thread runs while none exists.

    An `EXECUTION_ENGINE_HANDLE` holds one reference on that thread. It is reference counted:
    `execution_engine_create` returns it with a count of 1, `execution_engine_inc_ref` adds one,
    `execution_engine_dec_ref` removes one and frees the engine when the count reaches 0.
    Passing an engine to `async_socket_create` is optional on Linux (NULL is allowed); a socket
    created with an engine holds its own reference on it until `async_socket_destroy`.

    Thread safety: every function may be called from any thread, concurrently.
*/

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque, reference-counted handle to an execution engine. */
typedef struct EXECUTION_ENGINE* EXECUTION_ENGINE_HANDLE;

/** Creates an execution engine and returns it with a reference count of 1.

    `execution_engine_parameters` is ignored on Linux (it exists for the platforms whose engine
    takes settings, such as a thread pool's size); pass NULL. On Windows it is NULL (defaults) or a
    pointer to an `EXECUTION_ENGINE_PARAMETERS_WIN32` (`execution_engine_win32.h`), and the engine
    owns a Win32 thread pool of its own instead of sharing the completion port's thread.
    Starts the completion port's loop thread if no other engine or socket holds it.
    Returns NULL if memory or the loop thread (its io_context or the thread itself) cannot be
    obtained.
*/
EXECUTION_ENGINE_HANDLE execution_engine_create(void* execution_engine_parameters);

/** Adds one reference to `execution_engine`. Does nothing if `execution_engine` is NULL. */
void execution_engine_inc_ref(EXECUTION_ENGINE_HANDLE execution_engine);

/** Removes one reference from `execution_engine`; the last one frees it (and stops the loop
    thread if no other engine or socket holds it). Does nothing if `execution_engine` is NULL.

    Releasing the last reference from a callback that runs on the loop thread is allowed: the
    thread is then stopped and joined from another thread (see docs/c_api.md).
*/
void execution_engine_dec_ref(EXECUTION_ENGINE_HANDLE execution_engine);

#ifdef __cplusplus
}
#endif

#endif /* SENET_C_EXECUTION_ENGINE_H */
