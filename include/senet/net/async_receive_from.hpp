// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_RECEIVE_FROM_HPP
#define SENET_NET_ASYNC_RECEIVE_FROM_HPP

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/message_truncation.hpp>
#include <senet/net/message_flags.hpp>

#include <cstddef>
#include <system_error>
#include <type_traits>
#include <utility>

namespace senet::net {

namespace detail {

/** recvmsg with the source address. `Endpoint` is `Socket::endpoint_type` (the endpoint is a value
    of the completion) or `Socket::endpoint_type&` (the caller's endpoint is written). */
template <class Socket, class Buffers, class Endpoint>
struct receive_from_kind {
  static constexpr bool by_reference = std::is_reference_v<Endpoint>;
  using endpoint_type = std::remove_reference_t<Endpoint>;
  using record_type = io::detail::io_operation;
  using value_signature = std::conditional_t<by_reference, ex::set_value_t(std::size_t),
                                             ex::set_value_t(std::size_t, endpoint_type)>;
  using completion_signatures =
      ex::completion_signatures<value_signature, ex::set_error_t(std::error_code), ex::set_stopped_t()>;
  struct storage {
    iovec_view_for<Buffers> iov;
    std::conditional_t<by_reference, char, endpoint_type> source{};
    bool message_socket = false;  // datagram: the kernel gets MSG_TRUNC (message_truncation.hpp)
  };

  Socket* socket_;
  Buffers buffers_;
  message_flags flags_;
  endpoint_type* target_;  // the caller's endpoint (by_reference), else null

  endpoint_type& source(storage& st) noexcept {
    if constexpr (by_reference) {
      return *target_;
    } else {
      return st.source;
    }
  }

  int prepare(record_type& op, storage& st, io::io_context&) noexcept {
    if (int e = prepare_message(op, io::detail::op_code::receive, *socket_, buffers_, st.iov, flags_);
        e != 0) {
      return e;
    }
    op.msg_.msg_name = source(st).data();
    op.msg_.msg_namelen = static_cast<::socklen_t>(source(st).capacity());
    st.message_socket = is_message_socket(*socket_);
    op.flags_ = kernel_receive_flags(flags_, st.message_socket);
    return 0;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage& st) noexcept {
    op.result_ = checked_receive_result(op.result_, st.iov.bytes(), st.message_socket, flags_);
    if (op.result_ < 0) {
      ex::set_error(std::move(rcvr), io::detail::result_error(op.result_));
      return;
    }
    std::error_code ec;
    if constexpr (requires { source(st).resize(std::size_t{}, ec); }) {
      source(st).resize(op.msg_.msg_namelen, ec);
    } else {
      source(st).resize(op.msg_.msg_namelen);
    }
    if (ec) {
      ex::set_error(std::move(rcvr), ec);
    } else if constexpr (by_reference) {
      ex::set_value(std::move(rcvr), static_cast<std::size_t>(op.result_));
    } else {
      ex::set_value(std::move(rcvr), static_cast<std::size_t>(op.result_), std::move(st.source));
    }
  }
};

template <class Socket, class Buffers>
[[nodiscard]] auto make_receive_from_kind(Socket& socket, message_flags flags, Buffers&& buffers) {
  return receive_from_kind<Socket, stored_buffers_t<Buffers>, typename Socket::endpoint_type>{
      &socket, store_buffers(std::forward<Buffers>(buffers)), flags, nullptr};
}

template <class Socket, class Buffers>
[[nodiscard]] auto make_receive_from_kind(Socket& socket, message_flags flags, Buffers&& buffers,
                                          typename Socket::endpoint_type& source) {
  return receive_from_kind<Socket, stored_buffers_t<Buffers>, typename Socket::endpoint_type&>{
      &socket, store_buffers(std::forward<Buffers>(buffers)), flags, &source};
}

}  // namespace detail

/** `net::async_receive_from(socket, [flags,] buffers [, source])`: a sender that receives a
    datagram (or bytes) from `socket` into `buffers`, with the address it came from
    (P2762 [net.sender.async.receive.from]).

    Without `source` the sender completes with the byte count and the sender's endpoint, as P2762
    §6.2.5 specifies; with an endpoint reference `source` (the Networking TS form) it writes the
    endpoint there and completes with the byte count only. `async_receive_from(socket, buffers)` is
    `async_receive_from(socket, message_flags{}, buffers)`. Without a scheduler argument the
    io_context comes from the receiver's environment; `async_receive_from(sch, socket, ...)` runs
    on `sch`'s context.

    Completion signatures: `set_value_t(std::size_t, typename Socket::endpoint_type)` (or
    `set_value_t(std::size_t)` with `source`), `set_error_t(std::error_code)` (`errno` values in
    `std::system_category()`; `senet::error::operation_aborted` if the socket was closed while the
    operation waited; on a datagram socket, `std::errc::message_size` for a datagram longer than
    `buffers`, which then hold its start, the rest being discarded — with
    `message_flags::truncate` the receive succeeds instead with the datagram's real length, as
    Asio reports `message_size` and recv(2) reports `MSG_TRUNC`), `set_stopped_t()`.
    Cancellation: a stop request cancels the pending receive; it then completes with
    `set_stopped()` unless it completed first. The socket stays usable.
    Buffer lifetime: the caller keeps the bytes of `buffers` and `source` valid until completion.
    Socket lifetime: the socket may be closed or destroyed, on any thread, while the operation waits
    (`basic_socket`'s thread-safety rule): it then completes on the context's thread with
    `operation_aborted`, unless it completed first.
    Thread safety: may be started from any thread. Several receives may be pending on one socket:
    they take the datagrams, and complete, in start order. Where it completes (inline in `start()`
    or on the context's thread) follows the rules of `async_receive`, whose operation it is.
    See P2762 [net.sender.async.receive.from].
*/
struct async_receive_from_t {
  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        detail::make_receive_from_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, message_flags flags, Buffers&& buffers) const {
    return detail::make_sender(detail::make_receive_from_kind(socket, flags, std::forward<Buffers>(buffers)));
  }

  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, Buffers&& buffers,
                                typename Socket::endpoint_type& source) const {
    return detail::make_sender(
        detail::make_receive_from_kind(socket, message_flags{}, std::forward<Buffers>(buffers), source));
  }

  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, message_flags flags, Buffers&& buffers,
                                typename Socket::endpoint_type& source) const {
    return detail::make_sender(
        detail::make_receive_from_kind(socket, flags, std::forward<Buffers>(buffers), source));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        sch, detail::make_receive_from_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, message_flags flags,
                                Buffers&& buffers) const {
    return detail::make_sender(sch,
                               detail::make_receive_from_kind(socket, flags, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Buffers&& buffers,
                                typename Socket::endpoint_type& source) const {
    return detail::make_sender(
        sch, detail::make_receive_from_kind(socket, message_flags{}, std::forward<Buffers>(buffers), source));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, message_flags flags, Buffers&& buffers,
                                typename Socket::endpoint_type& source) const {
    return detail::make_sender(
        sch, detail::make_receive_from_kind(socket, flags, std::forward<Buffers>(buffers), source));
  }
};

/** The `async_receive_from` customization point object. */
inline constexpr async_receive_from_t async_receive_from{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_RECEIVE_FROM_HPP
