// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_STREAM_IO_AWAITABLE_HPP
#define SENET_STREAM_IO_AWAITABLE_HPP

#include <concepts>
#include <type_traits>

namespace senet::stream {

/** An awaiter of an I/O operation, as the stream concepts return them (`read_some`, `write_some`,
    `write`, `write_eof`): `co_await` gives the operation's result.

    Syntactic requirements: `a.await_ready()` converts to `bool`; `a.await_resume()` is valid.
    (`a.await_suspend(h)` takes the handle of the awaiting coroutine; it is a template on the
    promise type for most I/O awaiters, which find their I/O scheduler and stop token in the
    promise's environment, `ex::get_env(h.promise())`, so it is not checked here.)

    Semantic requirements:
    - The operation is started by the `co_await` expression, not by the call that returns the
      awaiter: an awaiter that is never awaited does nothing.
    - `await_ready()` may complete the operation (an operation whose result is already known,
      such as an empty buffer or data already in the kernel, returns `true` and the coroutine does
      not suspend). When awaited in a `senet::task`, the awaiter already knows its I/O scheduler
      and stop token when `await_ready()` runs (the task's `await_transform` gives them).
    - `await_resume()` does not throw: errors are part of the result (see
      `awaitable_decomposes_to`).
    - The awaiter is awaited once, and stays at its address from `await_ready()` until
      `await_resume()` (it is a temporary of the `co_await` expression, so it does).

    Example:
    ```cpp
    static_assert(senet::stream::io_awaitable<decltype(sock.read_some(buf))>);
    ```
    Thread safety: an awaiter is used by the one coroutine that awaits it.
*/
template <class A>
concept io_awaitable = requires(A& a) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_resume();
};

}  // namespace senet::stream

#endif  // SENET_STREAM_IO_AWAITABLE_HPP
