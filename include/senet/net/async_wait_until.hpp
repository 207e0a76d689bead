// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_WAIT_UNTIL_HPP
#define SENET_NET_ASYNC_WAIT_UNTIL_HPP

#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/wait_kind.hpp>

#include <chrono>

namespace senet::net {

/** `net::async_wait_until(tp)`: a sender that completes at `tp` (a `std::chrono::steady_clock`
    time point, on the context's clock).

    `async_wait_until(tp)` takes the io_context from the receiver's environment;
    `async_wait_until(sch, tp)` runs on `sch`'s context; `async_wait_until(timer, tp)` is
    `timer.async_wait_until(tp)` (`net::timer`). A time point already past completes in the
    next loop turn.

    Completion signatures: `set_value_t()`, `set_stopped_t()`.
    Cancellation: a stop request removes the pending wait; it then completes with `set_stopped()`
    unless it completed first.
    Thread safety: may be started from any thread; completes on the context's thread, never inline
    in `start()` (a stop already requested completes it there with `set_stopped()`).
    See P2762 §3.5.
*/
struct async_wait_until_t {
  template <class Duration>
  [[nodiscard]] auto operator()(
      std::chrono::time_point<std::chrono::steady_clock, Duration> tp) const noexcept {
    return detail::make_sender(
        detail::wait_kind::until(std::chrono::ceil<std::chrono::steady_clock::duration>(tp)));
  }

  template <io::detail::io_scheduler Sch, class Duration>
  [[nodiscard]] auto operator()(
      const Sch& sch, std::chrono::time_point<std::chrono::steady_clock, Duration> tp) const noexcept {
    return detail::make_sender(
        sch, detail::wait_kind::until(std::chrono::ceil<std::chrono::steady_clock::duration>(tp)));
  }

  /** `timer.async_wait_until(tp)`, for a timer object (`net::timer`). */
  template <class Timer, class Duration>
  requires(!io::detail::io_scheduler<Timer>) &&
      requires(const Timer& t, std::chrono::time_point<std::chrono::steady_clock, Duration> tp) {
    t.async_wait_until(tp);
  }
  [[nodiscard]] auto operator()(
      const Timer& timer, std::chrono::time_point<std::chrono::steady_clock, Duration> tp) const noexcept {
    return timer.async_wait_until(tp);
  }
};

/** The `async_wait_until` customization point object. */
inline constexpr async_wait_until_t async_wait_until{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_WAIT_UNTIL_HPP
