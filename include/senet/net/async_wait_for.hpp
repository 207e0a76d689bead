// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_WAIT_FOR_HPP
#define SENET_NET_ASYNC_WAIT_FOR_HPP

#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/wait_kind.hpp>

#include <chrono>

namespace senet::net {

/** `net::async_wait_for(d)`: a sender that completes `d` after it was started.

    `async_wait_for(d)` takes the io_context from the receiver's environment
    (`ex::get_scheduler`); `async_wait_for(sch, d)` runs on `sch`'s context;
    `async_wait_for(timer, d)` is `timer.async_wait_for(d)` (`net::timer`). The deadline is
    measured on the context's clock (`std::chrono::steady_clock`; the test backend's virtual
    clock), rounded up to its resolution; a negative or zero `d` completes in the next loop turn.

    Completion signatures: `set_value_t()`, `set_stopped_t()`.
    Cancellation: a stop request removes the pending wait; it then completes with `set_stopped()`
    unless it completed first.
    Thread safety: may be started from any thread; completes on the context's thread, never inline
    in `start()` (a stop already requested completes it there with `set_stopped()`).
    See P2762 §3.5.
*/
struct async_wait_for_t {
  template <class Rep, class Period>
  [[nodiscard]] auto operator()(std::chrono::duration<Rep, Period> d) const noexcept {
    return detail::make_sender(detail::wait_kind::for_(d));
  }

  template <io::detail::io_scheduler Sch, class Rep, class Period>
  [[nodiscard]] auto operator()(const Sch& sch, std::chrono::duration<Rep, Period> d) const noexcept {
    return detail::make_sender(sch, detail::wait_kind::for_(d));
  }

  /** `timer.async_wait_for(d)`, for a timer object (`net::timer`). */
  template <class Timer, class Rep, class Period>
  requires(!io::detail::io_scheduler<Timer>) &&
      requires(const Timer& t, std::chrono::duration<Rep, Period> d) {
    t.async_wait_for(d);
  }
  [[nodiscard]] auto operator()(const Timer& timer, std::chrono::duration<Rep, Period> d) const noexcept {
    return timer.async_wait_for(d);
  }
};

/** The `async_wait_for` customization point object. */
inline constexpr async_wait_for_t async_wait_for{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_WAIT_FOR_HPP
