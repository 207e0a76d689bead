// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_DETAIL_STOP_SLOT_HPP
#define SENET_EXECUTION_DETAIL_STOP_SLOT_HPP

/* One stop callback for a chain of waits that come one after another: a long-lived operation
   state keeps a `stop_slot` bound to its stop token, and each operation below it that waits hands
   itself to the slot (`arm`) instead of registering a stop callback of its own, and takes itself
   back first thing in its completion (`disarm`). The slot registers its callback with the token
   once, at the first `arm`, and deregisters it in `reset` (before its owner completes) or when it
   goes. Per wait there are two atomic exchanges instead of a registration and a deregistration
   (each a lock, a list update and an unlock of the stop source).

   Who keeps one: a `senet::task`, for the socket awaits of the chain of tasks it runs
   (`task_context::stop_slot`). A user of senet never sees it.

   Protocol (`state_`: one word, a target's address or one of the small values below):
   - `arm` (the thread that started the waiting operation, with the operation pending): `idle` ->
     target. The first arm registers the callback first (`unregistered` -> `registering` ->
     `idle`; a stop already requested runs it there). It fails with `stopped` when a stop was
     requested (the state is then `stopping` or `stopped` for good, and the caller cancels its
     operation itself), and with `busy` when another target is armed (two operations under the
     slot wait at once: the caller registers a callback of its own) or the registration is under
     way on another thread.
   - the stop callback (any thread, at most once): state -> `stopping`; when that took a target it
     runs the target's `run` (which asks for its operation to be cancelled); then `stopped`.
   - `disarm` (the target's completion): target -> `idle`, true. When the callback took the target
     first, it waits for `stopped` (the target's `run` has returned) and returns false; the caller
     then takes a cancel request that `run` queued, as it would after destroying a callback of its
     own.
   The token of every `arm` is the one of `bind`: a caller whose stop token is another one
   registers its own callback. The slot is two words and a callback (64 bytes with the bundled
   core).
*/

#include <senet/execution.hpp>

#include <atomic>
#include <cstdint>
#include <new>
#include <thread>

namespace senet::execution_detail {

namespace ex = senet::ex;

/** What a slot's stop cancels: an object of the waiting operation, armed while it waits. */
struct stop_target {
  /** Called once, on the thread that requests the stop, while the target is armed: asks for the
      target's operation to be cancelled. */
  void (*run)(stop_target& self) noexcept = nullptr;
};

class stop_slot {
 public:
  /** What `arm` did. */
  enum class armed : unsigned char {
    yes,      ///< a stop request runs the target's `run` from now on, until `disarm`
    stopped,  ///< a stop was requested: the caller cancels its operation now
    busy      ///< the slot serves another waiting operation: the caller registers a callback of its own
  };

  stop_slot() noexcept = default;
  stop_slot(const stop_slot&) = delete;
  stop_slot& operator=(const stop_slot&) = delete;
  ~stop_slot() { reset(); }

  /** The token whose stop the slot forwards; set before any `arm`, by the slot's owner. */
  void bind(ex::inplace_stop_token token) noexcept { token_ = token; }
  [[nodiscard]] ex::inplace_stop_token token() const noexcept { return token_; }

  /** `target`'s operation was started and waits; its stop token is `token()`, and
      `token().stop_possible()`. */
  [[nodiscard]] armed arm(stop_target& target) noexcept {
    std::uintptr_t s = state_.load(std::memory_order_acquire);
    if (s == unregistered) [[unlikely]] {
      if (!register_callback(s)) {
        return s == registering ? armed::busy : armed::stopped;
      }
    }
    std::uintptr_t expected = idle;
    if (state_.compare_exchange_strong(expected, address(target), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return armed::yes;
    }
    return expected == stopping || expected == stopped ? armed::stopped : armed::busy;
  }

  /** First thing of the completion of a target `arm` took: true when no stop touched it; false
      when the stop callback took it, after its `run` returned. */
  bool disarm(stop_target& target) noexcept {
    std::uintptr_t expected = address(target);
    if (state_.compare_exchange_strong(expected, idle, std::memory_order_acq_rel, std::memory_order_acquire))
        [[likely]] {
      return true;
    }
    while (state_.load(std::memory_order_acquire) != stopped) {
      std::this_thread::yield();
    }
    return false;
  }

  /** Deregisters the callback (waiting for one running on another thread); no target may be
      armed, and no `arm` may run meanwhile. For an owner that completes before it is destroyed:
      its stop source may go as soon as it completed. */
  void reset() noexcept {
    if (state_.load(std::memory_order_acquire) != unregistered) {
      callback().~registration_type();
      state_.store(unregistered, std::memory_order_relaxed);
    }
  }

 private:
  struct on_stop {
    stop_slot* self_;
    void operator()() const noexcept { self_->stop(); }
  };
  using registration_type = ex::stop_callback_for_t<ex::inplace_stop_token, on_stop>;

  // The states that are not a target's address (targets are aligned to pointers, so above these).
  static constexpr std::uintptr_t unregistered = 0;  // no callback (the first arm registers it)
  static constexpr std::uintptr_t registering = 1;   // an arm is registering it
  static constexpr std::uintptr_t idle = 2;          // registered, nothing armed
  static constexpr std::uintptr_t stopping = 3;      // the stop callback runs
  static constexpr std::uintptr_t stopped = 4;       // the stop callback ran: for good
  static_assert(alignof(stop_target) > stopped);

  static std::uintptr_t address(stop_target& target) noexcept {
    return reinterpret_cast<std::uintptr_t>(&target);
  }

  registration_type& callback() noexcept {
    return *std::launder(reinterpret_cast<registration_type*>(callback_));
  }

  // The first arm: registers the callback (a stop already requested, or requested meanwhile on
  // another thread, runs it: the state is then stopping or stopped). False, with `s` the state
  // seen, when the arm cannot go on: another thread registers (`registering`), or a stop came.
  bool register_callback(std::uintptr_t& s) noexcept {
    if (!state_.compare_exchange_strong(s, registering, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return s != registering && s != stopping && s != stopped;  // registered meanwhile: go on
    }
    ::new (static_cast<void*>(callback_)) registration_type(token_, on_stop{this});
    s = registering;
    if (!state_.compare_exchange_strong(s, idle, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return false;  // the stop callback ran: s is stopping or stopped
    }
    return true;
  }

  void stop() noexcept {
    std::uintptr_t s = state_.exchange(stopping, std::memory_order_acq_rel);
    if (s > stopped) {
      auto* target = reinterpret_cast<stop_target*>(s);
      target->run(*target);
    }
    state_.store(stopped, std::memory_order_release);
  }

  std::atomic<std::uintptr_t> state_{unregistered};
  ex::inplace_stop_token token_{};
  alignas(registration_type) unsigned char callback_[sizeof(registration_type)];
};

}  // namespace senet::execution_detail

#endif  // SENET_EXECUTION_DETAIL_STOP_SLOT_HPP
