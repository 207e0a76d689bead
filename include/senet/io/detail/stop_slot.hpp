// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IO_DETAIL_STOP_SLOT_HPP
#define SENET_IO_DETAIL_STOP_SLOT_HPP

/* One stop callback for a whole chain of awaits: the operation state of a `senet::task` keeps a
   `stop_slot`, which the task and the tasks it awaits share (their `task_context`). A socket
   awaitable that waits hands its record to the slot (`arm`) instead of registering a stop callback
   of its own, and takes it back first thing in its completion (`disarm`). The slot registers its
   callback with the task's stop token once, at the first `arm`, and deregisters it when the
   operation state goes; per wait there are two atomic exchanges instead of a registration and a
   deregistration (each a lock, a list update and an unlock of the stop source).

   Protocol (`pending_`: null, the armed record, or `stopped`):
   - `arm` (the context's thread, with the record pending): `pending_` null -> record. It fails when
     a stop was requested: `pending_` is then `stopped` for good, and the caller cancels the record
     itself (a stop requested before the record started would have been seen by its caller, which
     does not arm then; this covers a request made meanwhile on another thread).
   - the stop callback (any thread, at most once): `pending_` -> `stopped`; when that took a
     record it asks the context to cancel it (`request_cancel`: from another thread a queued
     request), then sets `done_`.
   - `disarm` (the context's thread, the record's completion): `pending_` record -> null. When the
     callback took the record first, it waits for `done_` (the callback's `request_cancel` has
     returned), then performs a cancel request still queued for the record (`take_queued_cancel`),
     so that the core no longer refers to it: as `stoppable_operation::release_stop_callback` does.
   At most one record is armed at a time: a chain of tasks awaits one thing at a time. */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>

#include <atomic>
#include <optional>
#include <thread>

namespace senet::io::detail {

class stop_slot {
 public:
  stop_slot() noexcept = default;
  stop_slot(const stop_slot&) = delete;
  stop_slot& operator=(const stop_slot&) = delete;
  ~stop_slot() = default;  // the callback deregisters (waiting for one running on another thread)

  /** What `arm` did. */
  enum class armed : unsigned char {
    yes,       ///< a stop request cancels `op` from now on
    stopped,   ///< a stop was requested: the caller cancels `op` now
    elsewhere  ///< the slot serves another context: the caller registers a callback of its own
  };

  /** The context's thread; `op` was started on `ctx` and waits. `token` is the chain's stop token
      (the same at every call; `stop_possible()`). */
  [[nodiscard]] armed arm(io_context& ctx, io_operation& op, ex::inplace_stop_token token) noexcept {
    if (!callback_) [[unlikely]] {
      ctx_ = &ctx;
      callback_.emplace(token, on_stop{this});  // runs on_stop at once when a stop was requested
    } else if (ctx_ != &ctx) [[unlikely]] {
      return armed::elsewhere;
    }
    io_operation* expected = nullptr;
    if (pending_.compare_exchange_strong(expected, &op, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      return armed::yes;
    }
    return armed::stopped;  // expected is `stopped`: nothing else is ever left there
  }

  /** The context's thread, first thing of the completion of a record `arm` took. */
  void disarm(io_operation& op) noexcept {
    io_operation* expected = &op;
    if (pending_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) [[likely]] {
      return;
    }
    // The stop callback took the record: wait until its cancel request was made, then take it.
    while (!done_.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    take_queued_cancel(*ctx_, op);
  }

 private:
  struct on_stop {
    stop_slot* self_;
    void operator()() const noexcept { self_->stop(); }
  };

  void stop() noexcept {
    io_operation* op = pending_.exchange(stopped(), std::memory_order_acq_rel);
    if (op != nullptr) {
      request_cancel(*ctx_, *op);
    }
    done_.store(true, std::memory_order_release);
  }

  // The value of `pending_` after a stop: an address no record has.
  [[nodiscard]] io_operation* stopped() noexcept { return reinterpret_cast<io_operation*>(&done_); }

  std::atomic<io_operation*> pending_{nullptr};
  std::atomic<bool> done_{false};
  io_context* ctx_ = nullptr;  // written once, before the callback is registered
  std::optional<ex::stop_callback_for_t<ex::inplace_stop_token, on_stop>> callback_;
};

}  // namespace senet::io::detail

#endif  // SENET_IO_DETAIL_STOP_SLOT_HPP
