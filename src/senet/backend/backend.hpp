// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_BACKEND_HPP
#define SENET_BACKEND_BACKEND_HPP

/* The boundary between the io core (src/senet/io/) and a backend (src/senet/backend/<name>/).
   docs/design/io_core.md, "The boundary", is the contract; keep both true together. */

#include <senet/io/backend_kind.hpp>
#include <senet/io/detail/descriptor.hpp>
#include <senet/io/detail/operation.hpp>

#include "senet/io/op_queue.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace senet::io::detail {

class backend;
class foreign_descriptors;
class provided_buffers;

/** What the core offers a backend: delivery of completions into the ready queue. */
class completion_sink {
 public:
  /** Context's thread only: `op` finished with `result` (bytes, fd, -errno, -ECANCELED or
      io_operation::aborted); its `complete_` runs in a later turn. Inline, not virtual: the one
      sink is the io core's (context_impl), and a backend calls this for every completion. */
  void complete(io_operation& op, std::int64_t result) noexcept {
    if (is_multishot(op.code_)) [[unlikely]] {
      // Its last completion: from now on it counts as ordinary work until delivered.
      --standing_;
    }
    complete_single(op, result);
  }

  /** `complete` of a record that is not multishot (the backend knows it: its fast paths). */
  void complete_single(io_operation& op, std::int64_t result) noexcept {
    op.result_ = result;
    op.state_ = op_state::ready;
    ready_.push_back(op);
    ++ready_entered_;
  }

  /** Context's thread only: `op`, which `backend::start` keeps (it returns false), waits in the
      backend; the core counts it as outstanding work until its completion is delivered. Every
      backend's `start` calls it, last, for every record it keeps: so the core's start is a tail
      call of the backend's. */
  void pending(io_operation& op) noexcept {
    op.state_ = op_state::pending;
    ++outstanding_;
  }

  /** What a start returns after a start step of its own that said `completed` (at once): the
      record counted as pending (`pending`) when it was not. */
  bool counted(bool completed, io_operation& op) noexcept {
    if (!completed) {
      pending(op);
    }
    return completed;
  }

  /** How many records have entered and left the ready queue (context's thread only). A record
      that entered as number `n` (`ready_entered_` right after its `complete`) has been delivered
      once `ready_left_ >= n`: a backend that completes an operation at once in `start()` checks
      that an earlier completion of the same direction was delivered, so that completions keep
      start order (epoll). */
  std::uint64_t ready_entered_ = 0;
  std::uint64_t ready_left_ = 0;
  /** The io_context this core belongs to (what a backend writes into
      `descriptor_state_head::context` when it registers a descriptor). */
  const io_context* context_ = nullptr;

 protected:
  completion_sink() = default;
  ~completion_sink() = default;

  /** Records whose completion runs in a later turn (`complete`); the core's ready queue. */
  op_queue ready_;
  /** Multishot records armed in the backend, their last completion not yet come (the core counts
      them in its outstanding work too). */
  std::size_t standing_ = 0;
  /** Operations started and not yet delivered: the core's timers, the backend's records
      (`pending`) and the ready queue's. */
  std::size_t outstanding_ = 0;
};

/** The first member of every backend's per-descriptor state (`descriptor::context_state`). Its
    head (descriptor.hpp) is what operation states read inline: the backend sets `context` when it
    registers the descriptor and keeps `direct` as `descriptor_state_head` says (a backend that
    never sets a `direct` bit has no direct system calls: the test backend). */
struct descriptor_state : descriptor_state_head {
  /** A count for the backend's own use (io_uring: the descriptor's records in its backlog). First,
      so that it takes the head's tail padding instead of 8 more bytes per descriptor. */
  std::uint32_t backend_count = 0;
  /** The backend that registered the descriptor; null once that backend is destroyed. */
  backend* owner = nullptr;
  /** Frees an orphaned state (owner null), called by release_descriptor. */
  void (*destroy)(descriptor_state*) noexcept = nullptr;
  /** The core's standing-operation state of the descriptor (a socket's pooled receive, an
      acceptor's queue: src/senet/io/standing.cpp), or null. The core sets and clears it; a
      backend only keeps it null in a state it hands out afresh. */
  void* standing = nullptr;
};
// Every registered socket holds one (per idle connection: issue 10's memory budget); the head's
// small members and backend_count share one word.
static_assert(sizeof(descriptor_state) == 64);

/** A backend: performs socket operations, waits for events, wakes up. Every member except
    `wake()`, `core()` (and the destructor's caller) runs on the context's thread, or on a thread
    that holds the runner's role while no thread runs the context (docs/design/io_core.md,
    "Threads"): never on two threads at once. */
class backend {
 public:
  explicit backend(completion_sink& sink) noexcept : sink_(&sink) {}
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;
  /** Releases the descriptors of `foreign()` (src/senet/io/foreign_descriptors.cpp), after the
      derived backend's destructor orphaned their states. */
  virtual ~backend();

  /** Which backend this is. */
  [[nodiscard]] virtual backend_kind kind() const noexcept = 0;

  /** Starts a socket operation (`op.code_` is accept, connect, receive, send, poll, or a
      multishot `receive_multishot` / `accept_multishot`). Returns true when it completed at once
      (never for poll), with `op.result_` set; false when the backend will call
      `sink().complete(op, r)` later. A multishot record (`multishot_operation`) may first
      complete any number of times through its `on_shot_`, called by the backend on the context's
      thread with `completion_more`; its last completion goes through the sink, with
      `completion_flags_` and `buffer_` set. A backend that has no multishot operations completes
      them at once with -EOPNOTSUPP. A record it keeps (returning false) it marks with
      `sink().pending(op)`, last. */
  virtual bool start(io_operation& op) noexcept = 0;

  /** If `op` is still pending in this backend, completes it with -ECANCELED (through the sink,
      never inline); otherwise does nothing. */
  virtual void cancel(io_operation& op) noexcept = 0;

  /** Waits for events at most `timeout` (negative: no limit; zero: do not block), turns them into
      completions, and returns; returns early after `wake()`. `awaited`: how many operations the
      program waits for that this backend may complete (started and not delivered, less the
      core's timers and the standing multishot records, which only feed them); io_uring sizes
      its batch wait by it (context_options::completion_batch_wait), the others ignore it. */
  virtual void run_once(std::chrono::nanoseconds timeout, std::size_t awaited) = 0;

  /** Any thread: make a current or the next `run_once` return soon, and `wait_descriptor()`
      readable. */
  virtual void wake() noexcept = 0;

  /** A descriptor that is readable when `run_once` would find something to do. */
  [[nodiscard]] virtual int wait_descriptor() const noexcept = 0;

  /** Makes `wait_descriptor()` readable at `deadline` (for foreign run loops driving `poll()`). */
  virtual void arm_deadline(clock::time_point deadline) noexcept = 0;

  /** Forgets `d` (its context_state belongs to this backend): operations waiting on it complete
      with io_operation::aborted; `d.context_state` becomes null. */
  virtual void release(descriptor& d) noexcept = 0;

  /** Completes every operation waiting on `d` (its context_state belongs to this backend) with
      -ECANCELED, through the sink; `d` stays registered and usable. */
  virtual void cancel_descriptor(descriptor& d) noexcept = 0;

  /** Shutdown: completes every pending operation with -ECANCELED. */
  virtual void cancel_all() noexcept = 0;

  /** Calls `visit(op, arg)` for every operation the backend still holds (for the io_context
      destructor's diagnostic when cancellation does not finish; see io_core.md, "Shutdown").
      The default holds none after cancel_all(). */
  virtual void visit_pending(void (*visit)(const io_operation& op, void* arg) noexcept,
                             void* arg) const noexcept {
    static_cast<void>(visit);
    static_cast<void>(arg);
  }

  /** The clock of timers. */
  [[nodiscard]] virtual clock::time_point now() const noexcept { return clock::now(); }

  /** True when `start` honours `io_operation::link_timeout_ns_`: a positive limit that passes
      before the operation completes makes it complete with -ETIMEDOUT (a stop request or
      `cancel` still gives -ECANCELED, a release `aborted`). Otherwise the field is ignored. */
  [[nodiscard]] virtual bool links_timeouts() const noexcept { return false; }

  /** A buffer pool is registered with this backend: a backend that keeps the free buffers itself
      (io_uring: a provided-buffer ring) sets `pool.ring_` and takes all of them; otherwise the
      core's free stack keeps them and multishot receives `take()` from it. Returns 0 or -errno. */
  virtual int attach_buffers(provided_buffers& pool) noexcept {
    static_cast<void>(pool);
    return 0;
  }

  /** The pool is closed (or the backend goes away): forget it; `pool.ring_` becomes null. */
  virtual void detach_buffers(provided_buffers& pool) noexcept { static_cast<void>(pool); }

  /** A buffer of `pool` that the backend keeps (`pool.ring_` set) is free again. */
  virtual void recycle_buffer(provided_buffers& pool, std::uint32_t id) noexcept {
    static_cast<void>(pool);
    static_cast<void>(id);
  }

  /** The core this backend delivers to (the io_context that created it). */
  [[nodiscard]] completion_sink& core() const noexcept { return *sink_; }

  /** The descriptors no senet socket owns (io::async_poll), by fd; created on first use, null
      when that allocation fails. Kept out of the sockets' paths: only readiness waits on foreign
      descriptors and io::forget_descriptor look here. */
  [[nodiscard]] foreign_descriptors* foreign() noexcept;

 protected:
  [[nodiscard]] completion_sink& sink() const noexcept { return *sink_; }

 private:
  completion_sink* sink_;
  foreign_descriptors* foreign_ = nullptr;
};

/** Creates the epoll backend (src/senet/backend/epoll/); throws std::system_error on failure. */
std::unique_ptr<backend> make_epoll_backend(completion_sink& sink);

}  // namespace senet::io::detail

#endif  // SENET_BACKEND_BACKEND_HPP
