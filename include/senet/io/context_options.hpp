// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_CONTEXT_OPTIONS_HPP
#define SENET_IO_CONTEXT_OPTIONS_HPP

#include <senet/io/backend_kind.hpp>

#include <chrono>
#include <optional>

namespace senet::io {

/** How an `io_context` is set up: `io_context ctx{io::context_options{...}};`.

    Every member has a default that gives the same context as `io_context()`; the io_uring members
    are ignored by the other backends. What the context ended up with (the backend, the ring's
    sizes and setup flags, and why io_uring was not used) is `io_context::backend_info()`.

    Example, a server whose loop runs on the thread that creates it:
    ```cpp
    senet::io::io_context ctx{senet::io::context_options{.single_thread = true}};
    // ... open the acceptor, start the sessions ...
    ctx.run();  // on this thread, which also destroys ctx
    ```
*/
struct context_options {
  /** The backend; empty: the one `io_context()` picks (`SENET_BACKEND`, else io_uring, else
      epoll). A backend named here that is not available makes the constructor throw
      `std::system_error` (`std::errc::function_not_supported`), as `io_context(backend_kind)`. */
  std::optional<backend_kind> backend;

  /** io_uring: the completion-queue size in entries, rounded up to a power of two by the kernel
      and clamped to its maximum (`IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP`); 0 means the default,
      1,024. The submission queue has 256 entries, or as many as the completion queue if that is
      smaller (the kernel wants at least as many completion entries as submission entries).
      Completions that do not fit wait in the kernel (`IORING_FEAT_NODROP`, which the backend
      requires) and are flushed into the queue as it drains: none is lost, a burst larger than the
      queue only costs more `io_uring_enter` calls. Operations never fail for lack of submission
      entries either (they wait in a backlog). */
  unsigned completion_queue_entries = 0;

  /** The program's promise that one thread — the one that constructs the context — does
      everything that can reach the backend for the context's whole life: it runs the context
      (`run`, `run_one`, `run_for`, `poll`, `poll_one`, `run_until`), closes or cancels its sockets
      while the context is not running, and destroys it. Other threads may still schedule onto the
      context, start operations on it, stop it, and close sockets while it runs (all of which the
      running thread carries out).

      With this promise io_uring sets up the ring the way a 2026 server does:
      `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (the kernel completes operations
      only when the loop asks for completions, in batches, without interrupting the thread), and
      the ring descriptor is registered (`io_uring_register_ring_fd`: each `io_uring_enter` skips
      the descriptor lookup). Where the kernel refuses them the ring falls back to
      `IORING_SETUP_COOP_TASKRUN`, like a context without the promise. Running the context on
      another thread then throws `std::logic_error` (the kernel would refuse that thread's
      submissions). Ignored by epoll and the test backend. */
  bool single_thread = false;

  /** io_uring: how long a busy loop may wait for a batch of completions, so that one
      `io_uring_enter` returns many (`min_wait_usec` of `IORING_ENTER_EXT_ARG`, Linux 6.12,
      `IORING_FEAT_MIN_TIMEOUT`).

      Only a busy loop waits for a batch: when its last turn found more than one completion and at
      least four operations are awaited (started and not yet completed; timers do not count), a
      wait returns once half of them have completed, or once this time has passed since the wait
      began with at least one completion there. A lone connection, or a trickle of completions
      among many waiting operations, is delivered as without a window. Under load a completion,
      and work handed over from another thread, is then delivered at most this much later, and the
      loop makes far fewer system calls: 0.08 per round trip instead of 1.0 for an echo server at
      64 connections, at the same or a higher throughput and a lower median latency
      (`docs/benchmarks.md`, "The batch window under load"). Timers and `run_for` limits are never
      delayed. 0: every wait returns at the first completion. Ignored where the kernel lacks the
      feature (`backend_info::completion_batch_wait` is then 0) and by the other backends. */
  std::chrono::microseconds completion_batch_wait{20};
};

}  // namespace senet::io

#endif  // SENET_IO_CONTEXT_OPTIONS_HPP
