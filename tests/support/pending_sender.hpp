// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_PENDING_SENDER_HPP
#define SENET_TEST_SUPPORT_PENDING_SENDER_HPP

#include <senet/execution.hpp>

#include <atomic>
#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

namespace senet::test {

class pending_sender;

/** Controls and observes one `pending_sender` leaf: a sender that, once started, stays pending
    until either the test calls `complete()` (then it completes with `set_value()`) or a stop is
    requested on its receiver's stop token (then it completes with `set_stopped()`).

    The control records what happened, so a test can check that a stop request reached the leaf:
    `started()`, `stop_requested()` (the leaf's stop callback ran), `stopped()` and `completed()`.
    One control drives one started operation at a time; it must outlive that operation.

    Thread safety: a stop request may come from any thread, and exactly one of it and `complete()`
    completes the operation; but `complete()` must not race with the destruction of the operation
    (so race it with a stop request only while the test itself owns the operation state). The
    observers are safe to call from any thread.
*/
class pending_control {
 public:
  pending_control() = default;
  pending_control(pending_control const&) = delete;
  pending_control& operator=(pending_control const&) = delete;

  /** A sender for a leaf controlled by this object. */
  pending_sender sender() noexcept;

  /** True once the leaf's operation has been started. */
  bool started() const noexcept { return started_.load(); }

  /** True once the leaf's stop callback ran (a stop was requested while it was pending or before
      it started). */
  bool stop_requested() const noexcept { return stop_requested_.load(); }

  /** True once the leaf completed with `set_stopped()`. */
  bool stopped() const noexcept { return stopped_.load(); }

  /** True once the leaf completed, on either channel. */
  bool completed() const noexcept { return completed_.load(); }

  /** Completes the pending leaf with `set_value()`; returns false if it had already completed
      (because a stop request won) or was never started. */
  bool complete() noexcept {
    void* op = op_.load();
    return op != nullptr && complete_value_(op);
  }

 private:
  template <class Rcvr>
  friend class pending_operation;

  std::atomic<void*> op_{nullptr};
  bool (*complete_value_)(void*) noexcept = nullptr;
  std::atomic<bool> started_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> completed_{false};
};

/** The operation state of a `pending_sender` connected to `Rcvr`. */
template <class Rcvr>
class pending_operation {
 public:
  using operation_state_concept = ex::operation_state_tag;

  pending_operation(pending_control* control, Rcvr rcvr) noexcept(std::is_nothrow_move_constructible_v<Rcvr>)
      : control_(control), rcvr_(std::move(rcvr)) {}
  pending_operation(pending_operation const&) = delete;
  pending_operation& operator=(pending_operation const&) = delete;

  void start() & noexcept {
    control_->complete_value_ = &complete_value;
    control_->op_.store(this);
    control_->started_.store(true);
    // A stop callback registered after the stop request runs inside this emplace; it then only
    // records the request, and this function completes the operation once the callback exists.
    callback_.emplace(ex::get_stop_token(ex::get_env(rcvr_)), on_stop{this});
    int expected = starting;
    if (!state_.compare_exchange_strong(expected, pending)) {
      // The stop request came while starting.
      finish_stopped();
    }
  }

 private:
  enum : int { starting, pending, stop_while_starting, done };

  struct on_stop {
    pending_operation* self_;

    void operator()() noexcept {
      self_->control_->stop_requested_.store(true);
      int state = self_->state_.load();
      for (;;) {
        if (state == pending) {
          if (self_->state_.compare_exchange_weak(state, done)) {
            // Completing may destroy this operation and the callback executing now; the standard's
            // stop callbacks allow that from their own thread.
            self_->control_->op_.store(nullptr);
            self_->control_->stopped_.store(true);
            self_->control_->completed_.store(true);
            ex::set_stopped(std::move(self_->rcvr_));
            return;
          }
        } else if (state == starting) {
          if (self_->state_.compare_exchange_weak(state, stop_while_starting)) {
            return;
          }
        } else {
          return;
        }
      }
    }
  };

  using stop_token_type = ex::stop_token_of_t<ex::env_of_t<Rcvr>>;
  using callback_type = ex::stop_callback_for_t<stop_token_type, on_stop>;

  void finish_stopped() noexcept {
    state_.store(done);
    callback_.reset();
    control_->op_.store(nullptr);
    control_->stopped_.store(true);
    control_->completed_.store(true);
    ex::set_stopped(std::move(rcvr_));
  }

  static bool complete_value(void* p) noexcept {
    auto* self = static_cast<pending_operation*>(p);
    int expected = pending;
    if (!self->state_.compare_exchange_strong(expected, done)) {
      return false;
    }
    // Waits for a stop callback running on another thread; it lost the race and returns at once.
    self->callback_.reset();
    self->control_->op_.store(nullptr);
    self->control_->completed_.store(true);
    ex::set_value(std::move(self->rcvr_));
    return true;
  }

  pending_control* control_;
  Rcvr rcvr_;
  std::atomic<int> state_{starting};
  std::optional<callback_type> callback_;
};

/** A sender that stays pending until its `pending_control` completes it or a stop is requested.

    Completion signatures: `set_value_t()`, `set_stopped_t()`.
    Cancellation: a stop request on the receiver's stop token completes it with `set_stopped()`,
    unless `complete()` came first.
*/
class pending_sender {
 public:
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(), ex::set_stopped_t()>;

  explicit pending_sender(pending_control* control) noexcept : control_(control) {}

  template <class Rcvr>
  pending_operation<Rcvr> connect(Rcvr rcvr) const noexcept(std::is_nothrow_move_constructible_v<Rcvr>) {
    return {control_, std::move(rcvr)};
  }

 private:
  pending_control* control_;
};

inline pending_sender pending_control::sender() noexcept {
  return pending_sender{this};
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_PENDING_SENDER_HPP
