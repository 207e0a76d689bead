// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_TIMER_HPP
#define SENET_NET_TIMER_HPP

#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/wait_kind.hpp>

#include <chrono>

namespace senet::net {

/** A timer object: keeps its io_context (and so its clock) and an expiry across waits
    (P2762 §3.5).

    `t.async_wait()` waits until the expiry set by `expires_at` / `expires_after`;
    `t.async_wait_for(d)` and `t.async_wait_until(tp)` wait without changing it, and
    `net::async_wait_for(t, d)` / `net::async_wait_until(t, tp)` call those. The waits run on the
    context of the scheduler the timer was made with, whatever the receiver's environment says
    (for waits on the receiver's scheduler, use `net::async_wait_for(d)` without a timer).

    The senders copy what they need: a timer need not outlive the waits it started, and changing
    its expiry does not affect waits already made.

    Completion signatures of its senders: `set_value_t()`, `set_stopped_t()`.
    Cancellation: a stop request removes the pending wait; it completes with `set_stopped()`
    unless it completed first.
    Thread safety: distinct objects: safe; a shared object: const members only.
*/
class timer {
 public:
  using clock_type = std::chrono::steady_clock;
  using duration = clock_type::duration;
  using time_point = clock_type::time_point;

  /** A timer whose waits run on `sch`'s io_context; expiry: now. */
  template <io::detail::io_scheduler Sch>
  explicit timer(const Sch& sch) noexcept : ctx_(&sch.context()), expiry_(io::detail::now(*ctx_)) {}

  /** The current time on the timer's clock: its context's clock (`steady_clock`, or the test
      backend's virtual clock). */
  [[nodiscard]] time_point now() const noexcept { return io::detail::now(*ctx_); }

  /** A scheduler of the timer's context. */
  [[nodiscard]] io::io_context::scheduler_type scheduler() const noexcept { return ctx_->get_scheduler(); }

  /** When `async_wait()` completes. */
  [[nodiscard]] time_point expiry() const noexcept { return expiry_; }

  /** Sets the expiry to `tp`. */
  void expires_at(time_point tp) noexcept { expiry_ = tp; }

  /** Sets the expiry to `now() + d`. */
  template <class Rep, class Period>
  void expires_after(std::chrono::duration<Rep, Period> d) noexcept {
    expiry_ = now() + std::chrono::ceil<duration>(d);
  }

  /** The type of the senders of a timer. */
  using sender_type = detail::io_sender<detail::wait_kind, false>;

  /** A sender that completes at `expiry()` (as it is now). */
  [[nodiscard]] sender_type async_wait() const noexcept { return async_wait_until(expiry_); }

  /** A sender that completes `d` after it is started. */
  template <class Rep, class Period>
  [[nodiscard]] sender_type async_wait_for(std::chrono::duration<Rep, Period> d) const noexcept {
    return {ctx_, detail::wait_kind::for_(d)};
  }

  /** A sender that completes at `tp`. */
  [[nodiscard]] sender_type async_wait_until(time_point tp) const noexcept {
    return {ctx_, detail::wait_kind::until(tp)};
  }

 private:
  io::io_context* ctx_;
  time_point expiry_;
};

}  // namespace senet::net

#endif  // SENET_NET_TIMER_HPP
