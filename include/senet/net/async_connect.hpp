// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_CONNECT_HPP
#define SENET_NET_ASYNC_CONNECT_HPP

#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>

#include <system_error>
#include <utility>

namespace senet::net {

namespace detail {

/** A non-blocking connect: EINPROGRESS, then writability, then SO_ERROR. */
template <class Socket>
struct connect_kind {
  using endpoint_type = typename Socket::endpoint_type;
  using record_type = io::detail::io_operation;
  using completion_signatures =
      ex::completion_signatures<ex::set_value_t(), ex::set_error_t(std::error_code), ex::set_stopped_t()>;
  struct storage {};

  Socket* socket_;
  endpoint_type peer_;

  std::error_code prepare(record_type& op, storage&, io::io_context&) noexcept {
    if constexpr (requires(std::error_code & ec) {
                    socket_->is_open();
                    socket_->open(peer_.protocol(), ec);
                  }) {
      // Like the Networking TS: a closed socket is opened for the endpoint's protocol.
      if (!socket_->is_open()) {
        std::error_code ec;
        socket_->open(peer_.protocol(), ec);
        if (ec) {
          return ec;
        }
      }
    }
    op.code_ = io::detail::op_code::connect;
    op.descriptor_ = &socket_->io_descriptor();
    op.msg_.msg_name = const_cast<void*>(static_cast<const void*>(peer_.data()));
    op.msg_.msg_namelen = static_cast<::socklen_t>(peer_.size());
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

}  // namespace detail

/** `net::async_connect(socket, endpoint)`: a sender that connects `socket` to `endpoint`
    (P2762 [net.sender.async.connect]).

    A socket that is not open is first opened for the endpoint's protocol. The connection is made
    without blocking (`connect` returning `EINPROGRESS`, then writability and `SO_ERROR`). Without a
    scheduler argument the io_context comes from the receiver's environment;
    `async_connect(sch, socket, endpoint)` runs on `sch`'s context.

    Completion signatures: `set_value_t()`, `set_error_t(std::error_code)` (`errno` values in
    `std::system_category()`, e.g. `std::errc::connection_refused`;
    `senet::error::operation_aborted` if the socket was closed while the operation waited),
    `set_stopped_t()`.
    Cancellation: a stop request cancels the pending connect; it then completes with
    `set_stopped()` unless it completed first. The connection attempt may still be in progress in
    the kernel: close the socket (or open a new one) before connecting again.
    Buffer lifetime: the caller keeps `socket` valid until completion; `endpoint` is copied.
    Thread safety: one connect at a time per socket.
    See P2762 [net.sender.async.connect].
*/
struct async_connect_t {
  template <detail::io_socket Socket>
  [[nodiscard]] auto operator()(Socket& socket, const typename Socket::endpoint_type& endpoint) const {
    return detail::make_sender(detail::connect_kind<Socket>{&socket, endpoint});
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket,
                                const typename Socket::endpoint_type& endpoint) const {
    return detail::make_sender(sch, detail::connect_kind<Socket>{&socket, endpoint});
  }
};

/** The `async_connect` customization point object. */
inline constexpr async_connect_t async_connect{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_CONNECT_HPP
