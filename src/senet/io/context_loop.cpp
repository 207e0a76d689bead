// SPDX-License-Identifier: BSL-1.0
// The io core's loop and queues, and the entry points operation states call
// (docs/design/io_core.md, "The loop", "Threads", "Wakeups"). One translation unit, so that the
// hot path (start_operation -> context_impl::start -> backend) stays as inlined as before.
#include "senet/io/context_impl.hpp"

#include <senet/io/detail/pooled_receive.hpp>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace senet::io::detail {

constinit thread_local io_context* current_context = nullptr;

bool context_impl::start(io_operation& op) noexcept {
  // The socket operations go to the backend, which counts a record it keeps (pending()): a tail
  // call, with no frame of its own.
  constexpr auto first = static_cast<unsigned>(op_code::accept);
  constexpr auto last = static_cast<unsigned>(op_code::poll);
  if (static_cast<unsigned>(op.code_) - first <= last - first && !shutting_down_) [[likely]] {
    return backend_->start(op);
  }
  return start_other(op);
}

[[gnu::noinline]] bool context_impl::start_other(io_operation& op) noexcept {
  if (shutting_down_) {
    op.result_ = -ECANCELED;
    return true;
  }
  if (op.code_ == op_code::receive_pooled) {
    // The buffer pool's receive (standing.cpp), first of the others. (Its operation states start
    // it through start_pooled, the entry of its record type.)
    return pooled_start(op);
  }
  if (op.code_ == op_code::timer) {
    auto& t = static_cast<timer_operation&>(op);
    t.seq_ = timer_seq_++;
    pending(t);
    timers_.insert(t);
    return false;
  }
  if (op.code_ >= op_code::receive_multishot) {
    return start_special(op);
  }
  return backend_->start(op);
}

void context_impl::post(io_operation& op) noexcept {
  op.result_ = shutting_down_ ? -ECANCELED : 0;
  op.state_ = op_state::ready;
  ready_.push_back(op);
  ++ready_entered_;
  ++outstanding_;
}

void context_impl::post_remote(io_operation& op) noexcept {
  foreign_call call(*this);
  remote_.push(op);
  wake_if_sleeping();
}

void context_impl::request_cancel(io_operation& op) noexcept {
  if (current_context == owner_) {
    cancel_now(op);
    return;
  }
  foreign_call call(*this);
  op.cancel_pending_.store(true, std::memory_order_release);
  remote_cancel_.push(op);
  wake_if_sleeping();
}

void context_impl::queue_sweep(io_operation& sweep) noexcept {
  foreign_call call(*this);
  remote_cancel_.push(sweep);
  wake_if_sleeping();
}

void queue_stop_sweep(io_context& ctx, io_operation& sweep) noexcept {
  context_impl::of(ctx).queue_sweep(sweep);
}

void context_impl::remove_work() noexcept {
  foreign_call call(*this);
  if (guards_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    wake_if_sleeping();
  }
}

void context_impl::stop() noexcept {
  foreign_call call(*this);
  stopped_.store(true, std::memory_order_seq_cst);
  wake_if_sleeping();
}

std::size_t context_impl::run() {
  run_scope scope(*this);
  std::size_t n = 0;
  while (do_one(mode::block, false) != 0) {
    ++n;
  }
  return n;
}

std::size_t context_impl::run_one() {
  run_scope scope(*this);
  return do_one(mode::block, false);
}

std::size_t context_impl::run_for(std::chrono::nanoseconds rel_time) {
  run_scope scope(*this);
  if (rel_time <= std::chrono::nanoseconds(0)) {
    return 0;
  }
  clock::time_point deadline = now() + rel_time;
  std::size_t n = 0;
  // The deadline is checked here and after each gather, never on the path of a ready handler.
  while (now() < deadline && do_one(mode::block, false, &deadline) != 0) {
    ++n;
  }
  return n;
}

std::size_t context_impl::poll() {
  run_scope scope(*this);
  std::size_t n = 0;
  while (do_one(mode::poll, false) != 0) {
    ++n;
  }
  prepare_for_foreign_wait();
  return n;
}

std::size_t context_impl::poll_one() {
  run_scope scope(*this);
  std::size_t n = do_one(mode::poll, false);
  prepare_for_foreign_wait();
  return n;
}

std::size_t context_impl::run_until_turn(bool ignore_stop) {
  run_scope scope(*this);
  return do_one(mode::block, ignore_stop);
}

io_context::run_token context_impl::enter_run() {
  std::thread::id self = std::this_thread::get_id();
  if (issuer_ != std::thread::id{} && self != issuer_) [[unlikely]] {
    throw std::logic_error(
        "senet: an io_context made with context_options::single_thread is run only by the thread "
        "that constructed it");
  }
  std::thread::id none{};
  while (!runner_.compare_exchange_strong(none, self, std::memory_order_seq_cst) && none != self) {
    if (held_by_run_.load(std::memory_order_seq_cst)) {
      throw std::logic_error("senet: io_context is already being run by another thread");
    }
    // A closing thread holds the runner's role for a moment (try_enter_run), or a run call is
    // entering or leaving it: wait. (A test of a borrowers' count here reported a second runner
    // when the closing thread left between the exchange above and the test.)
    std::this_thread::yield();
    none = std::thread::id{};
  }
  io_context::run_token token{current_context, none == self};
  current_context = owner_;
  // What run_until starts on this thread before its first turn counts as a handler of its own.
  inline_completions_left(*owner_) = inline_completions_per_handler;
  if (!token.nested) {
    held_by_run_.store(true, std::memory_order_seq_cst);
    sleeping_.store(false, std::memory_order_seq_cst);
  }
  return token;
}

void context_impl::leave_run(io_context::run_token token) noexcept {
  current_context = token.previous;
  if (!token.nested) {
    // Nobody runs the context now: cross-thread work must make wait_descriptor() readable.
    sleeping_.store(true, std::memory_order_seq_cst);
    if (!ready_.empty() || !remote_.empty() || !remote_cancel_.empty()) {
      backend_->wake();
    }
    held_by_run_.store(false, std::memory_order_seq_cst);
    runner_.store(std::thread::id{}, std::memory_order_seq_cst);
    if (request_waiters_.load(std::memory_order_seq_cst) != 0) [[unlikely]] {
      // A thread waits for a descriptor request this runner may have left undone: let it
      // take over. Taking the mutex orders this after the waiter's check of runner_.
      { std::lock_guard lock(request_mutex_); }
      request_done_.notify_all();
    }
  }
}

void context_impl::wake_if_sleeping() noexcept {
  if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
    backend_->wake();
  }
}

// Runs one handler (returns 1) or returns 0 when stopped, out of work (block) or idle (poll).
// With a `deadline` (run_for), never blocks beyond it, and returns 0 when it has passed with no
// handler ready.
std::size_t context_impl::do_one(mode m, bool ignore_stop, const clock::time_point* deadline) {
  for (;;) {
    if (!ignore_stop && stopped_.load(std::memory_order_relaxed)) {
      return 0;
    }
    if (!ready_.empty() && budget_ > 0) {
      --budget_;
      io_operation* op = ready_.pop_front();
      ++ready_left_;
      --outstanding_;
      op->state_ = op_state::idle;
      // Records without an op code are the core's own steps (a start moved to this thread, a
      // wake-up record): they are not handlers.
      bool handler = op->code_ != op_code::none;
      inline_completions_left(*owner_) = inline_completions_per_handler;
      op->complete_(op);
      if (handler) {
        return 1;
      }
      continue;
    }
    budget_ = handler_budget;
    if (!gather(m == mode::block && ready_.empty(), ignore_stop, deadline)) {
      return 0;
    }
    if (m == mode::poll && ready_.empty()) {
      return 0;
    }
    if (deadline != nullptr && ready_.empty() && now() >= *deadline) {
      return 0;
    }
  }
}

// Collects cross-thread work, expired timers and I/O completions into the ready queue, blocking
// if allowed and nothing is ready. Returns false when blocking was allowed but there is no
// work left at all.
bool context_impl::gather(bool may_block, bool ignore_stop, const clock::time_point* deadline) {
  if (retired_pools_ != 0) [[unlikely]] {
    free_retired_pools();
  }
  drain_remote();
  expire_timers();
  std::chrono::nanoseconds timeout{0};
  if (may_block && ready_.empty()) {
    if (!has_work() && remote_.empty() && remote_cancel_.empty()) {
      return false;
    }
    timeout = timers_.empty() ? std::chrono::nanoseconds(-1)
                              : std::max(std::chrono::nanoseconds(0), timers_.top()->deadline_ - now());
    if (deadline != nullptr) {
      // run_for: wake up at its deadline at the latest.
      auto left = std::max(std::chrono::nanoseconds(0), *deadline - now());
      if (timeout < std::chrono::nanoseconds(0) || timeout > left) {
        timeout = left;
      }
    }
  }
  if (timeout != std::chrono::nanoseconds(0)) {
    sleeping_.store(true, std::memory_order_seq_cst);
    bool stop_seen = !ignore_stop && stopped_.load(std::memory_order_seq_cst);
    if (!remote_.empty() || !remote_cancel_.empty() || stop_seen || !has_work()) {
      sleeping_.store(false, std::memory_order_seq_cst);
      return true;
    }
    backend_->run_once(timeout, awaited());
    sleeping_.store(false, std::memory_order_seq_cst);
  } else {
    backend_->run_once(timeout, awaited());
  }
  expire_timers();
  return true;
}

void context_impl::drain_remote() noexcept {
  for (io_operation* op = remote_.take_all(); op != nullptr;) {
    io_operation* next = op->next_;
    op->state_ = op_state::ready;
    op->result_ = shutting_down_ ? -ECANCELED : 0;
    ready_.push_back(*op);
    ++ready_entered_;
    ++outstanding_;
    op = next;
  }
  take_cancel_requests();
}

void context_impl::take_cancel_requests() noexcept {
  for (io_operation* op = remote_cancel_.take_all(); op != nullptr;) {
    io_operation* next = op->cancel_next_;
    op->cancel_next_ = nullptr;
    op->cancel_pending_.store(false, std::memory_order_relaxed);
    if (op->complete_ == &shared_stop_entry::run_sweep) [[unlikely]] {
      // A shared stop registration's callback ran on another thread (detail/shared_stop.hpp).
      shared_stop_entry::run_sweep(op);
      op = next;
      continue;
    }
    // Nothing when it is no longer pending: it completed (its completion then waits in the ready
    // queue, or it is being delivered: take_queued_cancel).
    cancel_now(*op);
    op = next;
  }
}

void context_impl::expire_timers() noexcept {
  if (timers_.empty()) {
    return;
  }
  clock::time_point t = now();
  while (!timers_.empty() && timers_.top()->deadline_ <= t) {
    complete(*timers_.pop(), 0);
  }
}

void context_impl::cancel_now(io_operation& op) noexcept {
  if (op.state_ != op_state::pending) {
    return;
  }
  if (op.code_ == op_code::timer) {
    timers_.erase(static_cast<timer_operation&>(op));
    complete(op, -ECANCELED);
  } else if (is_served_by_core(op.code_)) {
    cancel_parked(op);
  } else {
    backend_->cancel(op);
  }
}

// After poll: leave wait_descriptor() readable if work is left, and armed for the next timer.
void context_impl::prepare_for_foreign_wait() noexcept {
  sleeping_.store(true, std::memory_order_seq_cst);
  if (!ready_.empty() || !remote_.empty() || !remote_cancel_.empty()) {
    backend_->wake();
  }
  if (!timers_.empty() && timers_.top()->deadline_ != armed_deadline_) {
    armed_deadline_ = timers_.top()->deadline_;
    backend_->arm_deadline(armed_deadline_);
  }
}

bool start_operation(io_context& ctx, io_operation& op) noexcept {
  return ctx.impl_->start(op);
}
bool start_operation(io_context& ctx, pooled_receive_operation& op) noexcept {
  return context_impl::of(ctx).start_pooled(op);
}
void post(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->post(op);
}
void post_remote(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->post_remote(op);
}
void request_cancel(io_context& ctx, io_operation& op) noexcept {
  ctx.impl_->request_cancel(op);
}
void take_cancel_requests(io_context& ctx) noexcept {
  ctx.impl_->take_cancel_requests();
}
clock::time_point now(const io_context& ctx) noexcept {
  return ctx.impl_->now();
}
bool links_timeouts(const io_context& ctx) noexcept {
  return ctx.impl_->links_timeouts();
}
std::shared_ptr<handoff> handoff_of(io_context& ctx) noexcept {
  return context_impl::of(ctx).get_handoff();
}
void with_backend(io_context& ctx, void (*fn)(void*, backend&) noexcept, void* arg) {
  struct args {
    void (*fn)(void*, backend&) noexcept;
    void* arg;
  } a{fn, arg};
  ctx.impl_->on_loop_thread(
      [](void* p, context_impl& impl) noexcept {
        auto& self = *static_cast<args*>(p);
        self.fn(self.arg, impl.get_backend());
      },
      &a);
}

}  // namespace senet::io::detail
