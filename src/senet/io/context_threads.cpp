// SPDX-License-Identifier: BSL-1.0
// Releasing and cancelling a descriptor from any thread (docs/design/io_core.md, "Closing,
// cancelling and moving sockets from any thread").
#include "senet/io/context_impl.hpp"

#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

namespace senet::io::detail {

namespace {

// The trampolines of `d` running on this thread (`counting`, innermost first) that still hold
// their count on `d.on_its_way`; with `give_back`, they stop holding it (the caller settles it).
std::uint32_t held_starts(counted_start* counting, const descriptor& d, bool give_back) noexcept {
  std::uint32_t n = 0;
  for (counted_start* s = counting; s != nullptr; s = s->outer_) {
    if (s->d_ == &d && s->held_) {
      s->held_ = !give_back;
      ++n;
    }
  }
  return n;
}

}  // namespace

void context_impl::on_descriptor(descriptor& d, detail::descriptor_action action) noexcept {
  struct args {
    descriptor* d;
    detail::descriptor_action action;
  } a{&d, action};
  on_loop_thread(
      [](void* p, context_impl& impl) noexcept {
        auto& self = *static_cast<args*>(p);
        impl.descriptor_action_here(*self.d, self.action);
      },
      &a);
}

void context_impl::settle_handed_off(io_context& ctx, descriptor& d,
                                     detail::descriptor_action action) noexcept {
  struct args {
    descriptor* d;
    detail::descriptor_action action;
  } a{&d, action};
  ctx.impl_->on_loop_thread(
      [](void* p, context_impl& impl) noexcept {
        auto& self = *static_cast<args*>(p);
        impl.settle_here(*self.d, self.action);
      },
      &a);
}

void settle_handed_off_starts(descriptor& d, descriptor_action action) noexcept {
  context_impl::settle_handed_off(*static_cast<io_context*>(d.handed_to), d, action);
}

void context_impl::on_loop_thread(loop_action action, void* arg) noexcept {
  if (current_context == owner_ || runner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    // The context's thread (a completion closing its socket, a nested run of another context).
    action(arg, *this);
    return;
  }
  io_context::run_token token{};
  if (try_enter_run(token)) {
    // Nobody runs the context: this thread does, for the moment.
    action(arg, *this);
    end_borrow(token);
    return;
  }
  loop_request request(*this, action, arg);
  foreign_call call(*this);
  remote_.push(request);
  wake_if_sleeping();
  std::unique_lock lock(request_mutex_);
  request_waiters_.fetch_add(1, std::memory_order_seq_cst);
  while (!request.done_) {
    if (runner_.load(std::memory_order_seq_cst) != std::thread::id{}) {
      // The runner performs it and notifies; leave_run notifies too (see below).
      request_done_.wait(lock);
      continue;
    }
    // The runner left before it came to the request (stopped, out of work, a poll() that
    // returned): take its role and do it here.
    lock.unlock();
    if (try_enter_run(token)) {
      if (!request.done_) {
        take_back(request);
        action(arg, *this);
        request.done_ = true;
      }
      end_borrow(token);
    }
    lock.lock();
  }
  request_waiters_.fetch_sub(1, std::memory_order_seq_cst);
}

// enter_run for a thread that only wants the runner's role if it is free: never nested, never
// throws. False when another thread runs the context.
// While it holds the role, held_by_run_ stays false, so that a run call meanwhile waits instead of
// reporting a second runner; end_borrow() ends it.
bool context_impl::try_enter_run(io_context::run_token& token) noexcept {
  std::thread::id none{};
  if (!runner_.compare_exchange_strong(none, std::this_thread::get_id(), std::memory_order_seq_cst)) {
    return false;
  }
  token = io_context::run_token{current_context, false};
  current_context = owner_;
  sleeping_.store(false, std::memory_order_seq_cst);
  return true;
}

void context_impl::end_borrow(io_context::run_token token) noexcept {
  leave_run(token);
}

// Runner only: the release or cancel itself. d.context_state is read again here: the state the
// caller saw belongs to this context's backend, and only this thread changes it.
void context_impl::descriptor_action_here(descriptor& d, detail::descriptor_action action) noexcept {
  if (d.on_its_way.count() != 0) {
    // A restart that this thread deferred (stoppable_operation::defer_restart) after the caller
    // found no start on its way: it is marked as one handed over is.
    settle_here(d, action);
  }
  auto* state = static_cast<descriptor_state*>(d.context_state);
  if (state == nullptr) {
    return;
  }
  // Completions of `d`'s operations waiting in the ready queue: one of an operation of several
  // steps (async_read, async_write, async_read_until) would start the next step when it is
  // delivered, reading the socket, which may be gone once this returns. Marked, the operation ends
  // instead (stoppable_operation::end_if_marked: `operation_aborted`, or `set_stopped()` after a
  // cancel). Starts on their way have their own marks (settle_here).
  handoff_state mark =
      action == detail::descriptor_action::cancel ? handoff_state::cancelled : handoff_state::abandoned;
  ready_.for_each([&](io_operation& op) {
    if (op.descriptor_ == &d && op.handoff_ == handoff_state::none) {
      op.handoff_ = mark;
    }
  });
  if (state->standing != nullptr) [[unlikely]] {
    standing_release(*state, action != detail::descriptor_action::cancel);
  }
  if (action == detail::descriptor_action::cancel) {
    backend_->cancel_descriptor(d);
  } else {
    backend_->release(d);
    d.context_state = nullptr;
  }
}

// Runner only. A start handed over before this call is in the cross-thread queue or the ready
// queue, or its trampoline runs on this thread (its receiver releasing the socket: `counting_`),
// or it has run and given its count back. (Another thread cannot be in the middle of one: this
// one holds the runner's role.)
void context_impl::settle_here(descriptor& d, detail::descriptor_action action) noexcept {
  drain_remote();
  handoff_state mark =
      action == detail::descriptor_action::cancel ? handoff_state::cancelled : handoff_state::abandoned;
  std::uint32_t marked = 0;
  ready_.for_each([&](io_operation& op) {
    if (op.handoff_ == handoff_state::on_its_way && op.descriptor_ == &d) {
      op.handoff_ = mark;
      ++marked;
    }
  });
  // A trampoline of `d` running on this thread: its receiver is releasing the socket.
  marked += held_starts(counting_, d, /*give_back=*/true);
  d.on_its_way.settle(marked);
}

void enter_counted_start(io_context& ctx, counted_start& s) noexcept {
  s.outer_ = std::exchange(ctx.impl_->counting_, &s);
}

void leave_counted_start(io_context& ctx, counted_start& s) noexcept {
  ctx.impl_->counting_ = s.outer_;
  if (s.held_) {
    s.d_->on_its_way.remove();
  }
}

bool starts_wait_on_their_way(io_context& ctx, const descriptor& d) noexcept {
  return d.on_its_way.count() > held_starts(ctx.impl_->counting_, d, /*give_back=*/false);
}

// Runner only: takes `request` out of the queues (it is in the cross-thread queue or, drained,
// in the ready queue), so that nobody runs it after its owner returned.
void context_impl::take_back(io_operation& request) noexcept {
  drain_remote();
  if (ready_.erase(request)) {
    ++ready_left_;
    --outstanding_;
  }
}

void run_descriptor_action(backend& owner, descriptor& d, descriptor_action action) noexcept {
  // Every backend is created by a context_impl, its sink.
  static_cast<context_impl&>(owner.core()).on_descriptor(d, action);
}

}  // namespace senet::io::detail
