// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_SEND_TO_HPP
#define SENET_NET_ASYNC_SEND_TO_HPP

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/message_flags.hpp>

#include <system_error>
#include <utility>

namespace senet::net {

namespace detail {

/** sendmsg to an address. */
template <class Socket, class Buffers>
struct send_to_kind {
  using endpoint_type = typename Socket::endpoint_type;
  using record_type = io::detail::io_operation;
  using completion_signatures = size_completions;
  struct storage {
    iovec_view_for<Buffers> iov;
  };

  Socket* socket_;
  Buffers buffers_;
  message_flags flags_;
  endpoint_type destination_;

  int prepare(record_type& op, storage& st, io::io_context&) noexcept {
    if (int e = prepare_message(op, io::detail::op_code::send, *socket_, buffers_, st.iov, flags_); e != 0) {
      return e;
    }
    op.msg_.msg_name = const_cast<void*>(static_cast<const void*>(destination_.data()));
    op.msg_.msg_namelen = static_cast<::socklen_t>(destination_.size());
    return 0;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    deliver_size(rcvr, op);
  }
};

template <class Socket, class Buffers>
[[nodiscard]] auto make_send_to_kind(Socket& socket, message_flags flags, Buffers&& buffers,
                                     const typename Socket::endpoint_type& destination) {
  return send_to_kind<Socket, stored_buffers_t<Buffers>>{
      &socket, store_buffers(std::forward<Buffers>(buffers)), flags, destination};
}

}  // namespace detail

/** `net::async_send_to(socket, [flags,] buffers, destination)`: a sender that sends the bytes of
    `buffers` on `socket` to `destination`, as by `sendmsg` with `MSG_NOSIGNAL` added
    (P2762 [net.sender.async.send.to]).

    `async_send_to(socket, buffers, destination)` is `async_send_to(socket, message_flags{},
    buffers, destination)`. Without a scheduler argument the io_context comes from the receiver's
    environment; `async_send_to(sch, socket, ...)` runs on `sch`'s context.

    Completion signatures: `set_value_t(std::size_t)` (the bytes sent),
    `set_error_t(std::error_code)` (`errno` values in `std::system_category()`;
    `senet::error::operation_aborted` if the socket was closed while the operation waited),
    `set_stopped_t()`.
    Cancellation: a stop request cancels the pending send; it then completes with `set_stopped()`
    unless it completed first. The socket stays usable.
    Buffer lifetime: the caller keeps the bytes of `buffers` valid until completion; `destination`
    is copied. Socket lifetime: the socket may be closed or destroyed, on any thread, while the
    operation waits (`basic_socket`'s thread-safety rule): it then completes on the context's thread
    with `operation_aborted`, unless it completed first.
    Thread safety: may be started from any thread. Several sends may be pending on one socket:
    their datagrams go out, and they complete, in start order. Where it completes (inline in
    `start()` or on the context's thread) follows the rules of `async_send`, whose operation it is.
    See P2762 [net.sender.async.send.to].
*/
struct async_send_to_t {
  template <detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, Buffers&& buffers,
                                const typename Socket::endpoint_type& destination) const {
    return detail::make_sender(
        detail::make_send_to_kind(socket, message_flags{}, std::forward<Buffers>(buffers), destination));
  }

  template <detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, message_flags flags, Buffers&& buffers,
                                const typename Socket::endpoint_type& destination) const {
    return detail::make_sender(
        detail::make_send_to_kind(socket, flags, std::forward<Buffers>(buffers), destination));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Buffers&& buffers,
                                const typename Socket::endpoint_type& destination) const {
    return detail::make_sender(
        sch, detail::make_send_to_kind(socket, message_flags{}, std::forward<Buffers>(buffers), destination));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, message_flags flags, Buffers&& buffers,
                                const typename Socket::endpoint_type& destination) const {
    return detail::make_sender(
        sch, detail::make_send_to_kind(socket, flags, std::forward<Buffers>(buffers), destination));
  }
};

/** The `async_send_to` customization point object. */
inline constexpr async_send_to_t async_send_to{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_SEND_TO_HPP
