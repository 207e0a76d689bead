// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_OPERATION_HPP
#define SENET_IO_DETAIL_OPERATION_HPP

/* The operation record every senet operation state embeds, and the entry points of the io core
   that operation states call. docs/design/io_core.md describes the protocol. */

#include <senet/io/detail/descriptor.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include <sys/socket.h>

namespace senet::io {
class io_context;
}  // namespace senet::io

namespace senet::io::detail {

/** What an operation record asks the core or the backend to do. */
enum class op_code : std::uint8_t {
  none,
  schedule,  ///< complete on the context's thread (no backend involvement)
  timer,     ///< complete at `timer_operation::deadline_` (the core's timer heap)
  accept,    ///< accept4 on descriptor_; msg_.msg_name/msg_namelen receive the peer
  connect,   ///< connect descriptor_ to msg_.msg_name/msg_namelen
  receive,   ///< recvmsg(descriptor_, &msg_, flags_)
  send,      ///< sendmsg(descriptor_, &msg_, flags_ | MSG_NOSIGNAL)
  /** Readiness: complete when one of the events `flags_` asks for (`io::poll_events` bits) or an
      error or hang-up occurs on descriptor_, with the events that occurred (`io::poll_events`
      bits, > 0) as the result. Never completes inline; several may wait on one descriptor. */
  poll,
  /** A `multishot_operation` that receives into buffers of `multishot_operation::buffers_`
      (io_uring: a multishot IORING_OP_RECV with buffer selection; epoll: recv on each readiness
      edge) until it is cancelled, its descriptor is released, the pool runs dry (-ENOBUFS), the
      peer ends the stream (0) or an error occurs. */
  receive_multishot,
  /** A `multishot_operation` that accepts connections on descriptor_ (io_uring: multishot
      IORING_OP_ACCEPT; epoll: accept4 on each readiness edge); each result is an accepted fd. */
  accept_multishot,
  /** A receive into a pool buffer (`pooled_receive_operation`), served by the core from the
      socket's standing `receive_multishot` (src/senet/io/pooled_receive.cpp). Never seen by a
      backend. */
  receive_pooled,
  /** An accept served by the core from the acceptor's standing `accept_multishot`. Never seen by
      a backend. */
  accept_queued,
};

/** True for the op codes of records that may complete more than once. */
[[nodiscard]] constexpr bool is_multishot(op_code code) noexcept {
  return code == op_code::receive_multishot || code == op_code::accept_multishot;
}

/** True for the op codes of records that the core serves from a standing multishot record
    itself, never handing them to the backend (which therefore never links a timeout to them). */
[[nodiscard]] constexpr bool is_served_by_core(op_code code) noexcept {
  return code == op_code::receive_pooled || code == op_code::accept_queued;
}

/** Bits of `io_operation::completion_flags_`: what came with a completion besides its result
    (io_uring's IORING_CQE_F_*, the same meaning on every backend). */
inline constexpr std::uint8_t completion_more = 1;    ///< more completions of the record follow
inline constexpr std::uint8_t completion_buffer = 2;  ///< a pool buffer holds the data (its id given)
/** The buffer stays in the kernel's use after this completion (incremental consumption). */
inline constexpr std::uint8_t completion_buffer_more = 4;
/** The kernel's notification that it no longer reads a zero-copy send's buffer came, and the
    send's completion waited for it (io_uring; see `descriptor::zero_copy_threshold`). */
inline constexpr std::uint8_t completion_notification = 8;
/** With `completion_notification`: the kernel copied the data after all (it says so on loopback,
    where the receiving socket needs its own copy). */
inline constexpr std::uint8_t completion_copied = 16;

/** Bit of `io_operation::start_hints_`: the caller has just made the record's system call itself
    (`perform_directly`) and it would have blocked, so the backend waits for readiness (or hands
    the record to the kernel) without trying it again. A backend may ignore it. */
inline constexpr std::uint8_t start_would_block = 1;

/** `io_operation::handoff_`: where a start handed to the loop with its descriptor
    (`start_here_or_hand_off`, `descriptor::on_its_way`) stands, and whether the socket of a
    record whose completion waits in the ready queue was released or cancelled meanwhile (the
    operation then starts no further step: `stoppable_operation`). */
enum class handoff_state : std::uint8_t {
  none,        ///< not handed off with a descriptor, or taken by the loop
  on_its_way,  ///< handed off; the loop has not taken it yet
  /** Its socket was released before the loop took it, or before its completion was delivered:
      the operation completes with `operation_aborted` instead of starting (again), without
      reading the socket (which may be gone). */
  abandoned,
  /** Its socket was cancelled (`cancel_descriptor`) before the loop took it, or before its
      completion was delivered: the operation completes as a stopped operation does instead of
      starting (again), without reading the socket. */
  cancelled,
};

/** Where a record is; only the context's thread reads or writes it. */
enum class op_state : std::uint8_t {
  idle,     ///< not started, or delivered
  pending,  ///< owned by the core (timer heap) or the backend (waiting for the kernel)
  ready,    ///< in the ready queue: result_ is final
};

/** The operation record: what the core and the backends know of an operation state.

    An operation state derives from it (or holds it as its first base) and stays at one address
    from `start()` until its completion is delivered. Fields are public because the core, the
    backends and the sender layer all fill parts of it; see docs/design/io_core.md.
*/
struct io_operation {
  using complete_fn = void (*)(io_operation*) noexcept;

  /** `result_` of an operation whose descriptor was released while it waited:
      `set_error(senet::error::operation_aborted)`. Below every `-errno`. */
  static constexpr std::int64_t aborted = -(std::int64_t{1} << 32);

  io_operation() noexcept = default;
  io_operation(const io_operation&) = delete;
  io_operation& operator=(const io_operation&) = delete;

  /** Called on the context's thread when the record leaves the ready queue. */
  complete_fn complete_ = nullptr;
  /** Ready queue, cross-thread queue, backend wait lists; timer heap: next sibling. */
  io_operation* next_ = nullptr;
  /** Backend wait lists; timer heap: previous sibling or parent. */
  io_operation* prev_ = nullptr;
  /** The cross-thread cancel queue. */
  io_operation* cancel_next_ = nullptr;
  /** The backend's scratch space (epoll: the descriptor state whose list holds the record). */
  void* backend_link_ = nullptr;
  /** The socket's descriptor; null for schedule and timer records. */
  descriptor* descriptor_ = nullptr;
  /** iovec array (held by the operation state) and endpoint of the system call. */
  ::msghdr msg_{};
  /** Bytes transferred, accepted fd or the events of a poll (>= 0), -errno, -ECANCELED (stopped)
      or `aborted`. */
  std::int64_t result_ = 0;
  /** A socket operation's time limit in nanoseconds, relative to its start; 0 for none. Honoured
      only where `links_timeouts(ctx)` is true (io_uring: an IORING_OP_LINK_TIMEOUT linked to the
      operation); the operation then completes with -ETIMEDOUT when the limit passes first. The
      backend may rewrite it while it holds the record (io_uring keeps the absolute deadline). */
  std::int64_t link_timeout_ns_ = 0;
  /** MSG_* flags of receive and send; the `io::poll_events` bits a poll waits for. */
  int flags_ = 0;
  op_code code_ = op_code::none;
  op_state state_ = op_state::idle;
  /** The backend's flag bits (epoll: which wait list; connect in progress). */
  std::uint8_t backend_flags_ = 0;
  /** `completion_*` bits that came with the final completion (0 for single-shot operations, but
      `completion_notification` for a zero-copy send: see `descriptor::zero_copy_threshold`). */
  std::uint8_t completion_flags_ = 0;
  /** `start_*` hints from the operation state to the backend for the next start; the backend
      clears them when it takes the record. */
  std::uint8_t start_hints_ = 0;
  /** A stop callback on another thread queued a cancel request the loop has not drained yet. */
  std::atomic<bool> cancel_pending_{false};
  /** Set by the thread that hands the start over, then by the releasing thread while it holds the
      loop's role, and read by the trampoline on the loop's thread (ordered by the hand-off queue
      and the runner's role). */
  handoff_state handoff_ = handoff_state::none;
};

class provided_buffers;

/** A record that completes more than once (multishot): a standing receive or accept.

    Every completion but the last comes with `completion_more` and is handed, by the backend on
    the context's thread, to `on_shot_` at once (never user code: the core queues what it carries
    and completes the operations that wait for it). The last completion (no `completion_more`)
    goes through the ready queue like any record's, with `result_`, `completion_flags_` and
    `buffer_`; until it has been delivered the backend may still hold the record, so its storage
    is released only then. A stop, `cancel`, `release` of its descriptor and shutdown end it as
    they end any record (the last completion then says -ECANCELED or `aborted`); completions that
    were already on their way may still arrive before it. */
struct multishot_operation : io_operation {
  /** One completion that more follow: `result` (bytes, an accepted fd) and its `completion_*`
      `flags` and `buffer` id (valid with `completion_buffer`). */
  using shot_fn = void (*)(multishot_operation& op, std::int64_t result, std::uint8_t flags,
                           std::uint32_t buffer) noexcept;
  shot_fn on_shot_ = nullptr;
  /** receive_multishot: the pool its buffers come from. */
  provided_buffers* buffers_ = nullptr;
  /** The buffer id of the last completion, when its `completion_flags_` has `completion_buffer`. */
  std::uint32_t buffer_ = 0;
};

/** The clock of senet's timers. */
using clock = std::chrono::steady_clock;

/** A timer record: an `io_operation` with a deadline, kept in the core's pairing heap. */
struct timer_operation : io_operation {
  /** When to complete, on the context's clock (`now(ctx)`). */
  clock::time_point deadline_{};
  /** Start order, so that equal deadlines complete first-in first-out. */
  std::uint64_t seq_ = 0;
  /** First child in the pairing heap. */
  timer_operation* child_ = nullptr;
};

// ---- entry points of the core (src/senet/io/), for senet's operation states ----------------------

/** The context that the calling thread is running (inside run/run_one/poll/run_until), or null. */
extern thread_local constinit io_context* current_context;

/** True when the calling thread is running `ctx`. */
[[nodiscard]] inline bool running_in_this_thread(const io_context& ctx) noexcept {
  return current_context == &ctx;
}

/** True when the calling thread may make the system call of a send (`direction` is
    `direct_send`) or receive (`direct_receive`) on `d` itself, now, instead of starting a record
    on `ctx`: it runs `ctx`, `d` is registered with `ctx`, `ctx`'s backend said that such an
    operation would be tried at once (`descriptor_state_head::direct`), and no completion of that
    direction waits in the ready queue (`descriptor_state_head::tickets`). The caller checks its stop
    token first. A few loads; no call. */
[[nodiscard]] inline bool may_perform_directly(const io_context& ctx, const descriptor& d,
                                               std::uint8_t direction) noexcept {
  if (!running_in_this_thread(ctx)) {
    return false;
  }
  const auto* head = static_cast<const descriptor_state_head*>(d.context_state.load());
  return head != nullptr && head->context == &ctx && (head->direct & direction) != 0 &&
         head->tickets[direct_index(direction)] <= *head->delivered;
}

/** The system call of a send (`sendmsg` with `MSG_NOSIGNAL`) or receive (`recvmsg`) of `msg` on
    `d`, never blocking (`MSG_DONTWAIT`), retried on `EINTR`: the bytes transferred, or `-errno`
    (`-EAGAIN` / `-EWOULDBLOCK` when it would block: then start a record with
    `start_would_block`). For callers that `may_perform_directly` allowed. */
[[nodiscard]] inline std::int64_t perform_directly(const descriptor& d, bool send, ::msghdr& msg,
                                                   int flags) noexcept {
  for (;;) {
    ::ssize_t r = send ? ::sendmsg(d.fd, &msg, flags | MSG_NOSIGNAL | MSG_DONTWAIT)
                       : ::recvmsg(d.fd, &msg, flags | MSG_DONTWAIT);
    if (r >= 0) {
      return r;
    }
    if (errno != EINTR) {
      return -errno;
    }
  }
}

/** `perform_directly` of one buffer (`send` / `recv`, which need no `msghdr`). */
[[nodiscard]] inline std::int64_t perform_directly(const descriptor& d, bool send, void* data,
                                                   std::size_t size, int flags) noexcept {
  for (;;) {
    ::ssize_t r = send ? ::send(d.fd, data, size, flags | MSG_NOSIGNAL | MSG_DONTWAIT)
                       : ::recv(d.fd, data, size, flags | MSG_DONTWAIT);
    if (r >= 0) {
      return r;
    }
    if (errno != EINTR) {
      return -errno;
    }
  }
}

/** Starts `op` (context's thread only). Returns true when it completed at once (`op.result_` is
    final and the caller delivers the completion); false when the core or the backend will put it
    in the ready queue later. Timers never complete at once. */
bool start_operation(io_context& ctx, io_operation& op) noexcept;

/** Puts `op` in the ready queue (context's thread only): `op.complete_` runs in a later turn. */
void post(io_context& ctx, io_operation& op) noexcept;

/** From any thread: `op.complete_` runs on the context's thread, in a later turn. */
void post_remote(io_context& ctx, io_operation& op) noexcept;

/** From any thread: cancels `op` if it is still pending; it then completes with -ECANCELED. On
    another thread the request is queued (`cancel_pending_` set until the loop drains it). */
void request_cancel(io_context& ctx, io_operation& op) noexcept;

/** Context's thread only: takes every cancel request queued from other threads
    (`request_cancel`) out of the cross-thread cancel queue and performs it now, as the loop does
    when it gathers work. */
void take_cancel_requests(io_context& ctx) noexcept;

/** A start counted on its descriptor (`descriptor::on_its_way`) whose trampoline runs on the
    context's thread: it holds the count until the trampoline is done with the start, also with
    its completions delivered at once and the restarts of a multi-step operation, which read the
    socket. A receiver that releases the socket meanwhile (on this thread, in a completion) has the
    release give the count back instead (`held_` cleared), so that nothing touches the descriptor
    afterwards. On the trampoline's stack, between `enter_counted_start` and
    `leave_counted_start`; nested trampolines (a nested run) make a chain. */
struct counted_start {
  descriptor* d_ = nullptr;
  bool held_ = true;
  counted_start* outer_ = nullptr;
};

/** Context's thread: `s` (naming its descriptor) is running. */
void enter_counted_start(io_context& ctx, counted_start& s) noexcept;

/** Context's thread: `s` is done; gives its count back unless a release already did. */
void leave_counted_start(io_context& ctx, counted_start& s) noexcept;

/** Context's thread, when `d.on_its_way` is not zero: whether a start of `d` on its way to the
    loop has not run yet (one that runs now, this thread's counted starts of `d`, holds a count
    too, and is not waited for: the starts its completions make follow it). */
[[nodiscard]] bool starts_wait_on_their_way(io_context& ctx, const descriptor& d) noexcept;

/** The step of `complete_` that follows the destruction of the record's stop callback (which
    waited for a callback running on another thread, so that no new cancel request for `op` can
    come): when a cancel request for `op` made on another thread still waits in the cross-thread
    queue, the queue is taken now (`take_cancel_requests`), so that the core no longer refers to the
    record and the completion may be delivered at once, in its place in the ready queue. (Waiting
    for the loop to drain the request instead would deliver it after later completions of the same
    socket and direction: out of start order.) See docs/design/io_core.md, "Completion and
    cancellation". */
inline void take_queued_cancel(io_context& ctx, io_operation& op) noexcept {
  if (op.cancel_pending_.load(std::memory_order_acquire)) [[unlikely]] {
    take_cancel_requests(ctx);
  }
}

/** True when the context's backend honours `io_operation::link_timeout_ns_` (io_uring with
    IORING_OP_LINK_TIMEOUT); otherwise a time limit needs a timer. */
[[nodiscard]] bool links_timeouts(const io_context& ctx) noexcept;

/** The context's clock (steady_clock, or the test backend's virtual clock). */
[[nodiscard]] clock::time_point now(const io_context& ctx) noexcept;

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_OPERATION_HPP
