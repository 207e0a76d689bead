// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_WAIT_HPP
#define SENET_NET_ASYNC_WAIT_HPP

#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_wait_for.hpp>    // IWYU pragma: export (the timers' former home)
#include <senet/net/async_wait_until.hpp>  // IWYU pragma: export
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/wait_ready.hpp>
#include <senet/net/socket_base.hpp>

namespace senet::net {

/** `net::async_wait(socket, w)`: a sender that completes when `socket` is ready for `w`, with the
    events that occurred, without transferring anything.

    `w` is a `socket_base::wait_type`: `wait_read` (readable: data, a connection to accept, or the
    end of the stream), `wait_write` (writable), `wait_error` (an error or urgent data), or several
    at once (`wait_read | wait_write`). It completes with the `io::poll_events` that occurred, at
    least one: those asked for, plus `error` and `hangup`, which are always reported, and
    `peer_closed` (the peer shut down its sending side) for `wait_read`. A peer that closes gives
    `readable|peer_closed` (then `hangup` once this side shut down too); a reset gives `error` and
    `hangup`. The state is read when the wait completes; the next operation on the socket may still
    find nothing (another reader came first) and then waits as usual.

    `async_wait(socket, w)` takes the io_context from the receiver's environment
    (`ex::get_scheduler`); `async_wait(sch, socket, w)` runs on `sch`'s context. A socket belongs
    to the context that first waits on it (see `basic_socket`). Several waits may be pending on one
    socket at once, for the same or for different events, beside its receives and sends; each
    completes on its own.

    Completion signatures: `set_value_t(io::poll_events)`, `set_error_t(std::error_code)`,
    `set_stopped_t()`. Errors: `senet::error::operation_aborted` when the socket is closed while the
    wait is pending, `std::errc::invalid_argument` for a `w` that is not a combination of the three
    names, `std::errc::bad_file_descriptor` for a socket that is not open, `std::errc::
    device_or_resource_busy` for a socket registered with another context.
    Cancellation: a stop request removes the pending wait; it then completes with `set_stopped()`
    unless it completed first.
    Thread safety: may be started from any thread; completes on the context's thread, never inline
    in `start()`, even when the socket is ready already (a stop already requested completes it
    there with `set_stopped()`).
    Not in P2762; Asio's `basic_socket::async_wait` with the events as its result.
*/
struct async_wait_t {
  template <detail::io_socket Socket>
  [[nodiscard]] auto operator()(Socket& socket, socket_base::wait_type w) const noexcept {
    return detail::make_sender(detail::socket_wait_kind<Socket>{&socket, events_of(w)});
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, socket_base::wait_type w) const noexcept {
    return detail::make_sender(sch, detail::socket_wait_kind<Socket>{&socket, events_of(w)});
  }

 private:
  // wait_read, wait_write and wait_error are the first three bits of io::poll_events; anything else
  // is kept as an invalid bit so that prepare() reports it.
  [[nodiscard]] static constexpr io::poll_events events_of(socket_base::wait_type w) noexcept {
    auto v = static_cast<unsigned>(w);
    if (v == 0 || (v & ~7U) != 0) {
      return static_cast<io::poll_events>(0x80U);
    }
    io::poll_events e = io::poll_events::none;
    if ((v & socket_base::wait_read) != 0) {
      e |= io::poll_events::readable;
    }
    if ((v & socket_base::wait_write) != 0) {
      e |= io::poll_events::writable;
    }
    if ((v & socket_base::wait_error) != 0) {
      e |= io::poll_events::priority;
    }
    return e;
  }
};

/** The `async_wait` customization point object. */
inline constexpr async_wait_t async_wait{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_WAIT_HPP
