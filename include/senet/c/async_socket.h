/* SPDX-License-Identifier: BSL-1.0 */
#ifndef SENET_C_ASYNC_SOCKET_H
#define SENET_C_ASYNC_SOCKET_H

/** `async_socket`: an asynchronous socket for C programs (the `async_socket` API of
    `async-socket-linux-requirements.md`, with its names, signatures and results).

    An `async_socket` wraps a connected socket descriptor that the program obtained itself
    (socket + connect, or accept). The life of one:

        h = async_socket_create(NULL, fd);               owns fd from now on (NULL on failure)
        async_socket_open_async(h, on_open, ctx);        OPEN; on_open runs before it returns
        async_socket_send_async(h, bufs, n, on_sent, ctx) / async_socket_receive_async(...)
        async_socket_close(h);                           CLOSED; fd closed; nothing pending
        async_socket_destroy(h);                         frees it (closes it first if needed)

    States: a socket is created CLOSED (not yet opened), becomes OPEN with
    `async_socket_open_async`, and CLOSED again, for good, with `async_socket_close`: the
    descriptor is closed then, and the socket cannot be opened again.

    Where callbacks run (every callback runs exactly once for each call that returned success):
    - `on_open_complete`: on the calling thread, before `async_socket_open_async` returns.
    - `on_send_complete`: on the calling thread, before `async_socket_send_async` returns, when
      the whole payload could be sent at once; otherwise on the completion port's loop thread
      when the rest has been sent (or the send failed or was abandoned).
    - `on_receive_complete`, `on_notify_io_complete`: on the completion port's loop thread, never
      inside the call that started the operation.
    - `async_socket_close` (and so `async_socket_destroy`) completes every pending operation with
      its `ABANDONED` result, and returns only when every callback of the socket has returned
      (except a callback that is itself calling `async_socket_close`): after it returns, no
      callback of the socket runs any more, so their contexts may be freed. Called on the loop
      thread (from a receive, notify or asynchronous send callback), it cannot wait for the loop
      that it is running on: it makes the socket CLOSING (further calls fail as on a closed socket)
      and returns; the descriptor is closed and the pending operations complete with `ABANDONED`
      after the calling callback has returned.
    A callback may call any function of this API, on its own socket too: send, receive,
    notify_io, close, and destroy (the socket is then freed once that callback has returned and
    its pending operations have completed).
    No lock of the library is held while a callback runs. A callback should not block: while it
    runs, no other completion of any `async_socket` in the process is delivered.

    Order: the bytes of one `async_socket_send_async` are never interleaved with those of another,
    and sends go out in the order of the calls (for calls from different threads, the order in
    which they happened); receives complete in the order they were started.

    Thread safety: every function may be called from any thread, concurrently with any other,
    except `async_socket_destroy`, which must be the last call on its socket and must not run
    concurrently with another call on the same socket.

    Buffers: the API does not take ownership of the buffers. The memory that `buffer` members
    point to must stay valid until the operation's callback has been called (the
    `ASYNC_SOCKET_BUFFER` array itself may be released as soon as the call returns).

    Linking: part of libsenet; `pkg-config --cflags --libs senet` or CMake's `senet::senet`.
    See docs/c_api.md for a complete example.

    On Windows (the `windows` preset: docs/c_api_windows.md) the same functions follow
    async-socket-win32-requirements.txt: `execution_engine` must not be NULL, every callback but
    `on_open_complete` runs on a thread of the engine's thread pool (never inside the call), a send
    on a socket that is not OPEN or whose peer reset it returns `ASYNC_SOCKET_SEND_SYNC_NOT_OPEN`,
    a send that fails after it started completes with `ASYNC_SOCKET_SEND_ERROR`, and
    `async_socket_notify_io_async` always fails. The notes above about the completion port's loop
    thread are Linux's.
*/

#include <stddef.h>
#include <stdint.h>

#include <senet/c/execution_engine.h>
#include <senet/c/socket_handle.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque handle to an asynchronous socket. */
typedef struct ASYNC_SOCKET* ASYNC_SOCKET_HANDLE;

/** The result passed to `on_open_complete`. */
typedef enum ASYNC_SOCKET_OPEN_RESULT_TAG {
  ASYNC_SOCKET_OPEN_OK,   /**< the socket is OPEN */
  ASYNC_SOCKET_OPEN_ERROR /**< the socket could not be opened */
} ASYNC_SOCKET_OPEN_RESULT;

/** The value `async_socket_send_async` returns. */
typedef enum ASYNC_SOCKET_SEND_SYNC_RESULT_TAG {
  ASYNC_SOCKET_SEND_SYNC_OK,        /**< the send was accepted; `on_send_complete` runs once */
  ASYNC_SOCKET_SEND_SYNC_ERROR,     /**< bad argument or system error; no callback */
  ASYNC_SOCKET_SEND_SYNC_ABANDONED, /**< not OPEN, or the connection is gone (ECONNRESET,
                                         ENOTCONN, EPIPE); no callback */
  ASYNC_SOCKET_SEND_SYNC_NOT_OPEN   /**< never returned on Linux, which returns
                                         `ASYNC_SOCKET_SEND_SYNC_ABANDONED` for a socket that is
                                         not OPEN; the Windows document's name for that case,
                                         here so that code written for it compiles */
} ASYNC_SOCKET_SEND_SYNC_RESULT;

/** The result passed to `on_send_complete`. */
typedef enum ASYNC_SOCKET_SEND_RESULT_TAG {
  ASYNC_SOCKET_SEND_OK,       /**< the whole payload was sent */
  ASYNC_SOCKET_SEND_ERROR,    /**< the send failed (any error but ECONNRESET) */
  ASYNC_SOCKET_SEND_ABANDONED /**< the socket was closed, or the peer reset the connection */
} ASYNC_SOCKET_SEND_RESULT;

/** The result passed to `on_receive_complete`. */
typedef enum ASYNC_SOCKET_RECEIVE_RESULT_TAG {
  ASYNC_SOCKET_RECEIVE_OK,       /**< `bytes_received` (> 0) bytes were received */
  ASYNC_SOCKET_RECEIVE_ERROR,    /**< the receive failed; `bytes_received` is 0 */
  ASYNC_SOCKET_RECEIVE_ABANDONED /**< the peer closed the connection (a zero-byte read) or reset
                                      it (ECONNRESET), or the socket was closed; 0 bytes */
} ASYNC_SOCKET_RECEIVE_RESULT;

/** What `async_socket_notify_io_async` waits for. */
typedef enum ASYNC_SOCKET_NOTIFY_IO_TYPE_TAG {
  ASYNC_SOCKET_NOTIFY_IO_TYPE_IN, /**< the socket is readable (data, or the end of the stream) */
  ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT /**< the socket is writable */
} ASYNC_SOCKET_NOTIFY_IO_TYPE;

/** The result passed to `on_notify_io_complete`. */
typedef enum ASYNC_SOCKET_NOTIFY_IO_RESULT_TAG {
  ASYNC_SOCKET_NOTIFY_IO_RESULT_IN,        /**< the socket is readable (IN was asked) */
  ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT,       /**< the socket is writable (OUT was asked) */
  ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED, /**< the socket was closed, or the connection hung up
                                                without becoming ready for what was asked */
  ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR      /**< an error is pending on the socket */
} ASYNC_SOCKET_NOTIFY_IO_RESULT;

/** The enumerator's name ("ASYNC_SOCKET_OPEN_OK"...), or "UNKNOWN" for a value that is none of
    the enumerators. The returned string is static. The same holds for every `..._to_string`. */
const char* async_socket_open_result_to_string(ASYNC_SOCKET_OPEN_RESULT value);
const char* async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_RESULT value);
const char* async_socket_send_result_to_string(ASYNC_SOCKET_SEND_RESULT value);
const char* async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_RESULT value);
const char* async_socket_notify_io_type_to_string(ASYNC_SOCKET_NOTIFY_IO_TYPE value);
const char* async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT value);

/** Called once when an open completes (before `async_socket_open_async` returns). */
typedef void (*ON_ASYNC_SOCKET_OPEN_COMPLETE)(void* context, ASYNC_SOCKET_OPEN_RESULT open_result);
/** Called once when a send completes. */
typedef void (*ON_ASYNC_SOCKET_SEND_COMPLETE)(void* context, ASYNC_SOCKET_SEND_RESULT send_result);
/** Called once when a receive completes, with the number of bytes written into the buffers. */
typedef void (*ON_ASYNC_SOCKET_RECEIVE_COMPLETE)(void* context, ASYNC_SOCKET_RECEIVE_RESULT receive_result,
                                                 uint32_t bytes_received);
/** Called once when a readiness notification completes. */
typedef void (*ON_ASYNC_SOCKET_NOTIFY_IO_COMPLETE)(void* context,
                                                   ASYNC_SOCKET_NOTIFY_IO_RESULT notify_io_result);
/** A transport's send function (for `async_socket_create_with_transport`): returns the number
    of bytes written, or -1 with `errno` set. */
typedef int (*ON_ASYNC_SOCKET_SEND)(void* context, ASYNC_SOCKET_HANDLE async_socket, const void* buf,
                                    size_t len);
/** A transport's receive function (for `async_socket_create_with_transport`): returns the number
    of bytes read, or -1 with `errno` set. */
typedef int (*ON_ASYNC_SOCKET_RECV)(void* context, ASYNC_SOCKET_HANDLE async_socket, void* buf, size_t len);

/** One buffer of a send or receive payload. */
typedef struct ASYNC_SOCKET_BUFFER_TAG {
  void* buffer;    /**< the bytes; must not be NULL */
  uint32_t length; /**< their number; must not be 0 */
} ASYNC_SOCKET_BUFFER;

/** Creates an async socket that owns `socket_handle` (a connected stream socket, or a datagram
    socket) and returns it, CLOSED (not yet opened).

    `execution_engine` may be NULL; if it is not, the socket holds a reference on it until
    `async_socket_destroy`. The socket holds a reference on the process-wide completion port
    (whose loop thread is started now if it is not running).
    The descriptor is switched to non-blocking mode.
    Returns NULL, and leaves `socket_handle` open and owned by the caller, if `socket_handle` is
    `INVALID_SOCKET`, is not an open socket descriptor, or memory or the completion port cannot
    be obtained. On success the socket owns the descriptor: do not close it yourself.
*/
ASYNC_SOCKET_HANDLE async_socket_create(EXECUTION_ENGINE_HANDLE execution_engine,
                                        SOCKET_HANDLE socket_handle);

/** Not available on Linux: returns NULL, whatever the arguments.

    The signature is the Windows document's, where the function also always fails. A socket whose
    sends and receives go through `on_send` / `on_recv` has no descriptor here to wait on for
    readiness, and senet does not poll; use `async_socket_create` with the descriptor instead.
*/
ASYNC_SOCKET_HANDLE async_socket_create_with_transport(EXECUTION_ENGINE_HANDLE execution_engine,
                                                       ON_ASYNC_SOCKET_SEND on_send, void* on_send_context,
                                                       ON_ASYNC_SOCKET_RECV on_recv, void* on_recv_context);

/** Frees `async_socket`: closes it first if it is OPEN (as `async_socket_close` does, so pending
    operations complete with `ABANDONED` before it returns), waits for an open or close in progress
    on another thread, closes the descriptor if it was never opened, releases the socket's
    references on the completion port and the execution engine, and frees its memory.

    Does nothing if `async_socket` is NULL. Must be the last call on the socket, and must not run
    concurrently with another call on the same socket (an open or close on another thread is the
    exception: destroy waits for it). May be called from a callback, also one of this socket, and
    on the loop thread: it then closes the socket as `async_socket_close` does there, returns at
    once, and the socket is freed when the calling callback has returned and the socket's pending
    operations have completed (with `ABANDONED`).
*/
void async_socket_destroy(ASYNC_SOCKET_HANDLE async_socket);

/** Opens `async_socket`: makes it OPEN, ready for sends, receives and notifications on the
    completion port (whose io_context registers the descriptor when an operation first has to wait
    for it).

    Returns 0 on success, after `on_open_complete(on_open_complete_context, ASYNC_SOCKET_OPEN_OK)`
    has been called on the calling thread (the socket is OPEN during the callback).
    `on_open_complete_context` may be NULL.
    Returns non-zero, without calling `on_open_complete`, if `async_socket` or `on_open_complete`
    is NULL, if the socket is already OPEN or OPENING, or if it has been closed (a closed socket
    cannot be opened again).
*/
int async_socket_open_async(ASYNC_SOCKET_HANDLE async_socket, ON_ASYNC_SOCKET_OPEN_COMPLETE on_open_complete,
                            void* on_open_complete_context);

/** Closes `async_socket` for good: makes it CLOSING (new calls then fail as on a socket that is not
    OPEN), waits for the send, receive and notify calls executing on other threads, closes the
    descriptor, completes every pending operation with its `ABANDONED` result, and makes it CLOSED.
    Returns when every callback of the socket has returned, except on the loop thread, where it
    returns at once and the rest follows when the calling callback has returned (see the threading
    notes above).

    Does nothing if `async_socket` is NULL or not OPEN (never opened, or already closed).
    May be called from a callback, including one of this socket.
*/
void async_socket_close(ASYNC_SOCKET_HANDLE async_socket);

/** Sends the `buffer_count` buffers of `payload`, in order, as one contiguous run of bytes.

    Tries at once, on the calling thread (`send` with `MSG_NOSIGNAL`, so a closed connection never
    raises SIGPIPE), unless earlier sends of this socket are still pending, and keeps sending until
    the whole payload is out or the socket would block. If all of it was sent, calls
    `on_send_complete(on_send_complete_context, ASYNC_SOCKET_SEND_OK)` on the calling thread before
    returning. Otherwise the rest is sent on the completion port's loop thread, after the sends
    before it, and `on_send_complete` is called there with `ASYNC_SOCKET_SEND_OK`,
    `ASYNC_SOCKET_SEND_ABANDONED` (socket closed, or ECONNRESET) or `ASYNC_SOCKET_SEND_ERROR`.

    Returns `ASYNC_SOCKET_SEND_SYNC_OK` when `on_send_complete` has been or will be called (once).
    Returns, without calling `on_send_complete`:
    - `ASYNC_SOCKET_SEND_SYNC_ERROR` if `async_socket`, `payload` or `on_send_complete` is NULL,
      `buffer_count` is 0, a buffer has a NULL `buffer` or a 0 `length`, the lengths add up to
      more than `UINT32_MAX`, or the system call fails with an error other than those below;
    - `ASYNC_SOCKET_SEND_SYNC_ABANDONED` if the socket is not OPEN, or the first attempt fails with
      ECONNRESET, ENOTCONN or EPIPE (nothing of the payload was sent then).
    `on_send_complete_context` may be NULL. The `payload` array may be freed when the call returns;
    the bytes it points to must stay valid until `on_send_complete` is called.
*/
ASYNC_SOCKET_SEND_SYNC_RESULT async_socket_send_async(ASYNC_SOCKET_HANDLE async_socket,
                                                      const ASYNC_SOCKET_BUFFER* payload,
                                                      uint32_t buffer_count,
                                                      ON_ASYNC_SOCKET_SEND_COMPLETE on_send_complete,
                                                      void* on_send_complete_context);

/** Receives into the `buffer_count` buffers of `payload`, filling them in order.

    Completes, on the completion port's loop thread, as soon as data arrives:
    `on_receive_complete(on_receive_complete_context, ASYNC_SOCKET_RECEIVE_OK, n)` with the number
    `n` > 0 of bytes written across the buffers (as much as was available, up to their total
    length); `ASYNC_SOCKET_RECEIVE_ABANDONED` with 0 if the peer closed the connection (a zero-byte
    read), reset it (ECONNRESET), or the socket was closed; `ASYNC_SOCKET_RECEIVE_ERROR` with 0 on
    any other error.

    Returns 0 when `on_receive_complete` will be called (once). Returns non-zero, without calling
    it, if `async_socket`, `payload` or `on_receive_complete` is NULL, `buffer_count` is 0, a
    buffer has a NULL `buffer` or a 0 `length`, the lengths add up to more than `UINT32_MAX`, the
    socket is not OPEN, or memory for the operation cannot be obtained.
    `on_receive_complete_context` may be NULL. The `payload` array may be freed when the call
    returns; the memory it points to must stay valid until `on_receive_complete` is called.
*/
int async_socket_receive_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_BUFFER* payload,
                               uint32_t buffer_count, ON_ASYNC_SOCKET_RECEIVE_COMPLETE on_receive_complete,
                               void* on_receive_complete_context);

/** Waits until `async_socket` is readable (`ASYNC_SOCKET_NOTIFY_IO_TYPE_IN`) or writable
    (`ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT`), without transferring anything.

    Completes on the completion port's loop thread with
    `ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR` if an error is pending on the socket, otherwise
    `ASYNC_SOCKET_NOTIFY_IO_RESULT_IN` / `_OUT` when it is ready for what was asked (a peer's
    orderly close makes it readable: the next receive reports it), and
    `ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED` if the socket was closed, or the connection hung up
    without becoming ready for what was asked.

    Returns 0 when `on_notify_io_complete` will be called (once). Returns non-zero, without calling
    it, if `async_socket` or `on_notify_io_complete` is NULL, `io_type` is not one of the two
    values, the socket is not OPEN, or memory for the operation cannot be obtained.
    `on_notify_io_complete_context` may be NULL.
*/
int async_socket_notify_io_async(ASYNC_SOCKET_HANDLE async_socket, ASYNC_SOCKET_NOTIFY_IO_TYPE io_type,
                                 ON_ASYNC_SOCKET_NOTIFY_IO_COMPLETE on_notify_io_complete,
                                 void* on_notify_io_complete_context);

#ifdef __cplusplus
}
#endif

#endif /* SENET_C_ASYNC_SOCKET_H */
