// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_CONTEXT_IMPL_HPP
#define SENET_IO_CONTEXT_IMPL_HPP

/* The core of an io_context (docs/design/io_core.md). Its members are defined by concern:
   context_loop.cpp (the loop, the queues, the run calls and the entry points of operation
   states), context_threads.cpp (releasing and cancelling descriptors from any thread) and
   context_shutdown.cpp (what the destructor cancels, and how long it waits). */

#include <senet/io/detail/handoff.hpp>
#include <senet/io/io_context.hpp>

#include "senet/backend/backend.hpp"
#include "senet/io/backend_discovery.hpp"
#include "senet/io/descriptor_request.hpp"
#include "senet/io/op_queue.hpp"
#include "senet/io/timer_heap.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace senet::io::detail {

class provided_buffers;
struct pooled_socket;
struct queued_acceptor;

// How many handlers run back to back before the loop gathers I/O, timers and cross-thread work
// again, so that handlers rescheduling themselves cannot starve the rest.
inline constexpr int handler_budget = 64;

/** The core of an io_context: ready queue, cross-thread queues, timers, the loop. */
class context_impl final : public completion_sink {
 public:
  enum class mode { block, poll };

  context_impl(io_context& owner, const context_options& options)
      : owner_(&owner),
        backend_(options.backend ? make_required_backend(*options.backend, *this, options, &info_)
                                 : make_default_backend(*this, options, &info_)),
        handoff_(std::make_shared<handoff>(&owner)) {
    context_ = &owner;
    if (options.single_thread && backend_->kind() == backend_kind::uring) {
      // The ring's submitter is this thread (IORING_SETUP_SINGLE_ISSUER); enter_run enforces it.
      issuer_ = std::this_thread::get_id();
    }
  }

  context_impl(const context_impl&) = delete;
  context_impl& operator=(const context_impl&) = delete;

  ~context_impl() {
    // A thread that handed the loop a record may still be inside wake_if_sleeping() after the loop
    // delivered that record and its owner destroyed the context: wait until it has left.
    while (foreign_callers_.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
    standing_destroy_all();
    backend_.reset();
  }

  [[nodiscard]] backend_kind kind() const noexcept { return backend_->kind(); }
  [[nodiscard]] const backend_info& info() const noexcept { return info_; }
  [[nodiscard]] int wait_descriptor() const noexcept { return backend_->wait_descriptor(); }
  [[nodiscard]] clock::time_point now() const noexcept { return backend_->now(); }
  [[nodiscard]] bool links_timeouts() const noexcept { return backend_->links_timeouts(); }
  [[nodiscard]] backend& get_backend() noexcept { return *backend_; }
  [[nodiscard]] const backend* backend_address() const noexcept { return backend_.get(); }
  /** The core of `ctx` (this class is io_context's friend). */
  [[nodiscard]] static context_impl& of(io_context& ctx) noexcept { return *ctx.impl_; }
  /** Where results computed on other threads come back (ip::async_resolve); detached at shutdown. */
  [[nodiscard]] const std::shared_ptr<handoff>& get_handoff() const noexcept { return handoff_; }

  // ---- entry points ----

  bool start(io_operation& op) noexcept;
  // start() of every record but a socket operation's, and of all while shutting down.
  bool start_other(io_operation& op) noexcept;
  // start() of a pooled receive (its record's own entry, io::detail::start_operation).
  bool start_pooled(io_operation& op) noexcept {
    if (shutting_down_) [[unlikely]] {
      return start_other(op);
    }
    return pooled_start(op);
  }

  void post(io_operation& op) noexcept;

  void post_remote(io_operation& op) noexcept;

  void request_cancel(io_operation& op) noexcept;

  // Performs the cancel requests queued from other threads (io::detail::take_cancel_requests).
  void take_cancel_requests() noexcept;

  // From a shared stop registration's callback on another thread (detail/shared_stop.hpp): the
  // loop runs `sweep` when it takes the cancel requests.
  void queue_sweep(io_operation& sweep) noexcept;

  [[nodiscard]] bool shutting_down() const noexcept { return shutting_down_; }

  // ---- standing operations and buffer pools (standing.cpp) ----

  /** Starts a record whose op code is a multishot or a queued accept (start_other starts
      receive_pooled itself). */
  bool start_special(io_operation& op) noexcept;
  // receive_pooled: served from the socket's queue, or parked until data comes (then counted as
  // pending, as a backend's start counts a record it keeps).
  bool pooled_start(io_operation& op) noexcept;
  // pooled_start of the socket's first pooled receive, and of one that fails: out of line.
  [[gnu::noinline]] bool pooled_start_first(io_operation& op) noexcept;
  // Before the backend releases (or cancels) a descriptor whose state has a standing operation.
  void standing_release(descriptor_state& state, bool release) noexcept;
  // accept_queued (standing_accept.cpp): the same for an acceptor's standing accept.
  bool queued_accept_start(io_operation& op) noexcept;
  // A stop request for a receive_pooled or accept_queued record parked in a standing state.
  void cancel_parked(io_operation& op) noexcept;
  void queued_accept_release(multishot_operation& record, bool release) noexcept;
  void queued_accept_cancel_all() noexcept;
  void queued_accept_destroy_all() noexcept;
  // Shutdown: operations parked in standing states complete -ECANCELED.
  void standing_cancel_all() noexcept;
  // Destruction: frees the standing states and forgets the pools.
  void standing_destroy_all() noexcept;

  // The pools registered with this context (open, and closed ones not freed yet); live standing
  // states, and recycled ones.
  provided_buffers* pools_ = nullptr;
  // Closed pools whose free waits for the starts handed to the loop (release_pool_if_unused).
  std::size_t retired_pools_ = 0;
  // Whether starts handed to the loop by other threads have not reached it yet.
  [[nodiscard]] bool starts_handed_off() const noexcept {
    return handed_off_starts(*owner_).load(std::memory_order_relaxed) != 0;
  }
  // Takes `pool` out of pools_ (it is being freed).
  void forget_pool(provided_buffers& pool) noexcept;
  // Frees the retired pools once no start handed to the loop is on its way (the loop's gather).
  void free_retired_pools() noexcept;
  pooled_socket* pooled_live_ = nullptr;
  pooled_socket* pooled_free_ = nullptr;
  queued_acceptor* acceptors_live_ = nullptr;

  // ---- release / cancel of a descriptor, from any thread (io_core.md, "Threads") ----

  void on_descriptor(descriptor& d, detail::descriptor_action action) noexcept;

  /** `settle_handed_off_starts` (descriptor_request.hpp) on `ctx`'s core. */
  static void settle_handed_off(io_context& ctx, descriptor& d, detail::descriptor_action action) noexcept;

  /** Runs `action(arg, *this)` on the context's thread, from any thread: at once on that thread
      (or when no thread runs the context: the caller takes the runner's role for the moment),
      otherwise handed to the runner and waited for. */
  using loop_action = void (*)(void* arg, context_impl& impl) noexcept;
  void on_loop_thread(loop_action action, void* arg) noexcept;

  void add_work() noexcept { guards_.fetch_add(1, std::memory_order_relaxed); }

  void remove_work() noexcept;

  void stop() noexcept;

  [[nodiscard]] bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  void restart() noexcept { stopped_.store(false, std::memory_order_release); }

  // ---- the loop ----

  std::size_t run();

  std::size_t run_one();

  std::size_t run_for(std::chrono::nanoseconds rel_time);

  std::size_t poll();

  std::size_t poll_one();

  std::size_t run_until_turn(bool ignore_stop);

 private:
  // Marks the calling thread as the one running the context for the duration of a run call.
 public:
  io_context::run_token enter_run();

  void leave_run(io_context::run_token token) noexcept;

 private:
  // enter_run for a thread that only wants the runner's role if it is free: never nested, never
  // throws. False when another thread runs the context.
  // A run call meanwhile waits instead of reporting a second runner (held_by_run_ is false);
  // end_borrow() ends it.
  bool try_enter_run(io_context::run_token& token) noexcept;

  void end_borrow(io_context::run_token token) noexcept;

  // An action handed to the context's thread (a release or cancel of a descriptor, forgetting a
  // foreign descriptor); it lives on the stack of the thread that waits for it.
  struct loop_request : io_operation {
    loop_request(context_impl& impl, loop_action action, void* arg) noexcept
        : impl_(&impl), action_(action), arg_(arg) {
      complete_ = &loop_request::run;
    }
    static void run(io_operation* op) noexcept {
      auto& self = *static_cast<loop_request*>(op);
      context_impl& impl = *self.impl_;
      self.action_(self.arg_, impl);
      {
        std::lock_guard lock(impl.request_mutex_);
        self.done_ = true;
      }
      // `self` may be gone now; the condition variable is the context's.
      impl.request_done_.notify_all();
    }
    context_impl* impl_;
    loop_action action_;
    void* arg_;
    bool done_ = false;  // guarded by request_mutex_
  };

  // Runner only: the release or cancel itself. d.context_state is read again here: the state the
  // caller saw belongs to this context's backend, and only this thread changes it.
  void descriptor_action_here(descriptor& d, detail::descriptor_action action) noexcept;

  // Runner only: marks the starts of `d` that were handed to this loop and not taken yet (now all
  // in the ready queue) abandoned or cancelled, and gives their count back, with that of a
  // trampoline of `d` running on this thread (`counting_`).
  void settle_here(descriptor& d, detail::descriptor_action action) noexcept;

 public:
  // The trampolines of counted starts running on the context's thread, innermost first
  // (enter_counted_start / leave_counted_start, operation.hpp).
  counted_start* counting_ = nullptr;

 private:
  // Runner only: takes `request` out of the queues (it is in the cross-thread queue or, drained,
  // in the ready queue), so that nobody runs it after its owner returned.
  void take_back(io_operation& request) noexcept;

  class run_scope {
   public:
    explicit run_scope(context_impl& impl) : impl_(impl), token_(impl.enter_run()) {}
    run_scope(const run_scope&) = delete;
    run_scope& operator=(const run_scope&) = delete;
    ~run_scope() { impl_.leave_run(token_); }

   private:
    context_impl& impl_;
    io_context::run_token token_;
  };

  // Marks a call that may come from another thread and touches the context after making work
  // visible to the loop; the destructor waits for such calls to leave.
  struct foreign_call {
    explicit foreign_call(context_impl& impl) noexcept : impl_(impl) {
      impl_.foreign_callers_.fetch_add(1, std::memory_order_seq_cst);
    }
    foreign_call(const foreign_call&) = delete;
    foreign_call& operator=(const foreign_call&) = delete;
    ~foreign_call() { impl_.foreign_callers_.fetch_sub(1, std::memory_order_seq_cst); }
    context_impl& impl_;
  };

  void wake_if_sleeping() noexcept;

  // Standing multishot records count as outstanding (shutdown waits for them) but are no work
  // that keeps run() going: an idle socket's standing receive must not.
  [[nodiscard]] bool has_work() const noexcept {
    return outstanding_ != standing_ || guards_.load(std::memory_order_seq_cst) != 0;
  }

  // What backend::run_once calls `awaited`: the operations the program waits for that the backend
  // may complete (standing records only feed them; timers expire here, in the core).
  [[nodiscard]] std::size_t awaited() const noexcept {
    std::size_t elsewhere = standing_ + timers_.size();
    return outstanding_ > elsewhere ? outstanding_ - elsewhere : 0;
  }

  // Runs one handler (returns 1) or returns 0 when stopped, out of work (block) or idle (poll).
  // With a `deadline` (run_for), returns 0 once it has passed, and never blocks beyond it.
  std::size_t do_one(mode m, bool ignore_stop, const clock::time_point* deadline = nullptr);

  // Collects cross-thread work, expired timers and I/O completions into the ready queue, blocking
  // if allowed and nothing is ready. Returns false when blocking was allowed but there is no
  // work left at all.
  bool gather(bool may_block, bool ignore_stop, const clock::time_point* deadline = nullptr);

  void drain_remote() noexcept;

  void expire_timers() noexcept;

  void cancel_now(io_operation& op) noexcept;

  // After poll: leave wait_descriptor() readable if work is left, and armed for the next timer.
  void prepare_for_foreign_wait() noexcept;

  // Shutdown gave up on operations whose cancellation did not finish (io_uring: the kernel
  // neither completed nor cancelled them). They are never delivered: delivering them would let
  // their owners free records and buffers that the kernel may still write into. The backend is
  // destroyed all the same (its ring memory is the kernel's; closing the ring makes the kernel
  // cancel what it can); the operation states stay the user's, and must stay alive.
  void abandon_pending() noexcept;

  static const char* op_name(op_code code) noexcept;

  // Completes everything still pending with -ECANCELED and delivers it; gives up (with a message
  // on stderr) on operations whose cancellation has not finished after shutdown_patience.
 public:
  void shutdown() noexcept;

 private:
  io_context* owner_;
  // What the backend's set-up found (io_context::backend_info); filled before backend_ exists.
  backend_info info_;
  std::unique_ptr<backend> backend_;
  // context_options::single_thread on io_uring: the only thread that may run the context.
  std::thread::id issuer_{};
  // ready_, standing_ and outstanding_ are completion_sink's (backend.hpp): its complete() and
  // pending() keep them.
  int budget_ = handler_budget;
  timer_heap timers_;
  std::uint64_t timer_seq_ = 0;
  clock::time_point armed_deadline_{};
  bool shutting_down_ = false;
  std::atomic<std::uint32_t> foreign_callers_{0};
  remote_stack<&io_operation::next_> remote_;
  remote_stack<&io_operation::cancel_next_> remote_cancel_;
  std::atomic<bool> sleeping_{true};
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> guards_{0};
  std::atomic<std::thread::id> runner_{};
  // Threads waiting in descriptor_action for the context's thread.
  std::atomic<std::uint32_t> request_waiters_{0};
  // True while a run call (enter_run .. leave_run, not a borrow by try_enter_run) holds runner_:
  // set after its exchange of runner_, cleared before runner_ is released. A run call that finds
  // runner_ taken reports a second runner only when this is true; otherwise the role is held by a
  // closing thread for a moment, or being entered or left, and it waits.
  std::atomic<bool> held_by_run_{false};
  std::mutex request_mutex_;
  std::condition_variable request_done_;
  std::shared_ptr<handoff> handoff_;
};

}  // namespace senet::io::detail

#endif  // SENET_IO_CONTEXT_IMPL_HPP
