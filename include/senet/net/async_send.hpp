// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_SEND_HPP
#define SENET_NET_ASYNC_SEND_HPP

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/message_flags.hpp>

#include <system_error>
#include <utility>

namespace senet::net {

namespace detail {

/** sendmsg from a buffer sequence. */
template <class Socket, class Buffers>
struct send_kind {
  using record_type = io::detail::io_operation;
  using completion_signatures = size_completions;
  struct storage {
    iovec_view_for<Buffers> iov;
  };

  Socket* socket_;
  Buffers buffers_;
  message_flags flags_;

  int prepare(record_type& op, storage& st, io::io_context&) noexcept {
    return prepare_message(op, io::detail::op_code::send, *socket_, buffers_, st.iov, flags_);
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) noexcept {
    deliver_size(rcvr, op);
  }
};

template <class Socket, class Buffers>
[[nodiscard]] auto make_send_kind(Socket& socket, message_flags flags, Buffers&& buffers) {
  return send_kind<Socket, stored_buffers_t<Buffers>>{&socket, store_buffers(std::forward<Buffers>(buffers)),
                                                      flags};
}

}  // namespace detail

/** `net::async_send(socket, [flags,] buffers)`: a sender that sends bytes from `buffers` on
    `socket`, as by `sendmsg` with `MSG_NOSIGNAL` added (P2762 [net.sender.async.send]).

    `async_send(socket, buffers)` is `async_send(socket, message_flags{}, buffers)`. Without a
    scheduler argument the io_context comes from the receiver's environment (`ex::get_scheduler`);
    `async_send(sch, socket, [flags,] buffers)` runs on `sch`'s context. It may send fewer bytes
    than `buffers` holds (loop, or use `net::async_write`).

    Completion signatures: `set_value_t(std::size_t)` (the bytes sent), `set_error_t(std::error_code)`
    (`errno` values in `std::system_category()`: a peer reset gives `EPIPE` or `ECONNRESET`, never
    `SIGPIPE`; `senet::error::operation_aborted` if the socket was closed while the operation
    waited; `std::errc::argument_list_too_long` for more than `IOV_MAX` buffers), `set_stopped_t()`.
    Cancellation: a stop request cancels the pending send; it then completes with `set_stopped()`
    unless it completed first (no bytes were sent then). The socket stays usable.
    Buffer lifetime: the caller keeps the bytes of `buffers` valid until completion; a range of
    buffers passed as an lvalue is referred to, not copied. Socket lifetime: the socket may be
    closed or destroyed, on any thread, while the operation waits (`basic_socket`'s thread-safety
    rule): it then completes on the context's thread with `operation_aborted`, unless it completed
    first (a zero-copy send once the kernel has let go of its pages: `zero_copy_threshold`).
    Thread safety: may be started from any thread. Several sends may be pending on one socket:
    they write their bytes, and complete, in start order (each writes what it reports, a prefix
    of its buffers for a short send). `start()` completes inline when no other send of the socket
    is pending and the socket accepts the bytes at once (P2762 §6.1 2.2) on epoll and the test
    backend, and on io_uring when the socket has `eager_send(true)`; otherwise the completion
    comes on the context's thread. A stop already requested completes it in `start()` with
    `set_stopped()`.
    See P2762 [net.sender.async.send].
*/
struct async_send_t {
  template <detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        detail::make_send_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, message_flags flags, Buffers&& buffers) const {
    return detail::make_sender(detail::make_send_kind(socket, flags, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        sch, detail::make_send_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, const_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, message_flags flags,
                                Buffers&& buffers) const {
    return detail::make_sender(sch, detail::make_send_kind(socket, flags, std::forward<Buffers>(buffers)));
  }
};

/** The `async_send` customization point object. */
inline constexpr async_send_t async_send{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_SEND_HPP
