// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_WAIT_READY_HPP
#define SENET_NET_DETAIL_WAIT_READY_HPP

/* Readiness of a socket: the operation kind behind net::async_wait(socket, w), and wait_ready, the
   same operation under the names the libcoro facade and the C API use. One readiness operation
   (io/detail/poll_operation.hpp), no second implementation. */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/detail/poll_operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <cerrno>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::net::detail {

/** Waits until a socket has one of `events_` (or an error or hang-up), and completes with the
    events that occurred (`WithEvents`) or with `set_value()`. */
template <class Socket, bool WithEvents = true>
struct socket_wait_kind {
  using record_type = io::detail::io_operation;
  using completion_signatures = std::conditional_t<
      WithEvents, io::detail::poll_completions,
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code), ex::set_stopped_t()>>;
  struct storage {};

  Socket* socket_;
  io::poll_events events_;

  int prepare(record_type& op, storage&, io::io_context&) noexcept {
    if (!io::detail::valid_poll_events(events_)) [[unlikely]] {
      return static_cast<int>(std::errc::invalid_argument);
    }
    io::detail::prepare_poll(op, socket_->io_descriptor(), events_);
    return 0;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    if constexpr (WithEvents) {
      io::detail::deliver_poll(rcvr, op);
    } else if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
    } else {
      ex::set_value(std::move(rcvr));
    }
  }
};

/** Which readiness to wait for. */
enum class readiness { readable, writable };

[[nodiscard]] constexpr io::poll_events events_of(readiness what) noexcept {
  return what == readiness::readable ? io::poll_events::readable : io::poll_events::writable;
}

/** A sender that completes once `socket` is ready for `what` (an error or hang-up counts as
    ready), on the receiver's io_context: `net::async_wait` with `wait_read` or `wait_write`,
    without the events (use `net::async_wait` for them). Completion signatures: `set_value_t()`,
    `set_error_t(std::error_code)` (`senet::error::operation_aborted` when the socket is closed
    meanwhile), `set_stopped_t()`. */
template <io_socket Socket>
[[nodiscard]] auto wait_ready(Socket& socket, readiness what) noexcept {
  return make_sender(socket_wait_kind<Socket, false>{&socket, events_of(what)});
}

/** `wait_ready(socket, what)` on `sch`'s io_context. */
template <io::detail::io_scheduler Sch, io_socket Socket>
[[nodiscard]] auto wait_ready(const Sch& sch, Socket& socket, readiness what) noexcept {
  return make_sender(sch, socket_wait_kind<Socket, false>{&socket, events_of(what)});
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_WAIT_READY_HPP
