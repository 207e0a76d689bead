// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_DETAIL_WAIT_READY_HPP
#define SENET_NET_DETAIL_WAIT_READY_HPP

/* Readiness waits for higher layers (the libcoro facade's poll, the C API's notify_io_async):
   a sender that completes with set_value() when a socket is readable or writable, without
   transferring anything. Not a P2762 operation; senet's own building block. */

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <system_error>
#include <utility>

namespace senet::net::detail {

/** Which readiness to wait for. */
enum class readiness { readable, writable };

/** Waits until a socket is readable or writable (an error or hang-up counts as ready). */
template <class Socket>
struct wait_ready_kind {
  using record_type = io::detail::io_operation;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code), ex::set_stopped_t()>;
  struct storage {};

  Socket* socket_;
  readiness what_;

  std::error_code prepare(record_type& op, storage&, io::io_context&) noexcept {
    op.code_ = what_ == readiness::readable ? io::detail::op_code::wait_readable
                                            : io::detail::op_code::wait_writable;
    op.descriptor_ = &socket_->io_descriptor();
    return {};
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
    } else {
      ex::set_value(std::move(rcvr));
    }
  }
};

/** A sender that completes with `set_value()` once `socket` is ready for `what`, on the
    receiver's io_context. Completion signatures: `set_value_t()`, `set_error_t(std::error_code)`
    (`senet::error::operation_aborted` when the socket is closed meanwhile), `set_stopped_t()`. */
template <io_socket Socket>
[[nodiscard]] auto wait_ready(Socket& socket, readiness what) noexcept {
  return make_sender(wait_ready_kind<Socket>{&socket, what});
}

/** `wait_ready(socket, what)` on `sch`'s io_context. */
template <io::detail::io_scheduler Sch, io_socket Socket>
[[nodiscard]] auto wait_ready(const Sch& sch, Socket& socket, readiness what) noexcept {
  return make_sender(sch, wait_ready_kind<Socket>{&socket, what});
}

}  // namespace senet::net::detail

#endif  // SENET_NET_DETAIL_WAIT_READY_HPP
