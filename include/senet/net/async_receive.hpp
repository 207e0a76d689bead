// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_RECEIVE_HPP
#define SENET_NET_ASYNC_RECEIVE_HPP

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/io/io_context.hpp>
#include <senet/net/buffer_pool.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/detail/message_truncation.hpp>
#include <senet/net/detail/pooled_receive_kind.hpp>
#include <senet/net/message_flags.hpp>

#include <system_error>
#include <utility>

namespace senet::net {

namespace detail {

/** recvmsg into a buffer sequence. */
template <class Socket, class Buffers>
struct receive_kind {
  using record_type = io::detail::io_operation;
  using completion_signatures = size_completions;
  struct storage {
    iovec_view_for<Buffers> iov;
    bool message_socket = false;  // datagram: the kernel gets MSG_TRUNC (message_truncation.hpp)
  };

  Socket* socket_;
  Buffers buffers_;
  message_flags flags_;

  int prepare(record_type& op, storage& st, io::io_context&) noexcept {
    int e = prepare_message(op, io::detail::op_code::receive, *socket_, buffers_, st.iov, flags_);
    st.message_socket = is_message_socket(*socket_);
    op.flags_ = kernel_receive_flags(flags_, st.message_socket);
    return e;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage& st) noexcept {
    op.result_ = checked_receive_result(op.result_, st.iov.bytes(), st.message_socket, flags_);
    deliver_size(rcvr, op);
  }
};

template <class Socket, class Buffers>
[[nodiscard]] auto make_receive_kind(Socket& socket, message_flags flags, Buffers&& buffers) {
  return receive_kind<Socket, stored_buffers_t<Buffers>>{
      &socket, store_buffers(std::forward<Buffers>(buffers)), flags};
}

}  // namespace detail

/** `net::async_receive(socket, [flags,] buffers)`: a sender that receives bytes from `socket` into
    `buffers`, as by `recvmsg` (P2762 [net.sender.async.receive]).

    `async_receive(socket, buffers)` is `async_receive(socket, message_flags{}, buffers)`. Without a
    scheduler argument the io_context comes from the receiver's environment (`ex::get_scheduler`);
    `async_receive(sch, socket, [flags,] buffers)` runs on `sch`'s context.

    Completion signatures: `set_value_t(std::size_t)` (the bytes received; 0 at end of stream or
    for empty `buffers`), `set_error_t(std::error_code)` (`errno` values in
    `std::system_category()`; `senet::error::operation_aborted` if the socket was closed while the
    operation waited; `std::errc::argument_list_too_long` for a sequence of more than `IOV_MAX`
    buffers; on a datagram socket, `std::errc::message_size` for a datagram longer than `buffers`,
    which then hold its start, the rest being discarded — with `message_flags::truncate` the
    receive succeeds instead with the datagram's real length, as Asio reports `message_size` and
    recv(2) reports `MSG_TRUNC`), `set_stopped_t()`.
    Cancellation: a stop request cancels the pending receive; it then completes with
    `set_stopped()` unless it completed first. The socket stays usable.
    Buffer lifetime: the caller keeps the bytes of `buffers` valid until completion; a range of
    buffers passed as an lvalue is referred to, not copied. Socket lifetime: the socket may be
    closed or destroyed, on any thread, while the operation waits (`basic_socket`'s thread-safety
    rule): it then completes on the context's thread with `operation_aborted`, unless it completed
    first.
    Thread safety: may be started from any thread. Several receives may be pending on one socket:
    they take the bytes, and complete, in start order. `start()` completes inline when data is
    already there and no other receive of the socket is pending (P2762 §6.1 2.2) on epoll and the
    test backend, and on io_uring when the socket has `eager_receive(true)`; otherwise the
    completion comes on the context's thread. A stop already requested completes it in `start()`
    with `set_stopped()`.
    See P2762 [net.sender.async.receive].
*/
struct async_receive_t {
  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        detail::make_receive_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(Socket& socket, message_flags flags, Buffers&& buffers) const {
    return detail::make_sender(detail::make_receive_kind(socket, flags, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, Buffers&& buffers) const {
    return detail::make_sender(
        sch, detail::make_receive_kind(socket, message_flags{}, std::forward<Buffers>(buffers)));
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket, mutable_buffer_sequence Buffers>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, message_flags flags,
                                Buffers&& buffers) const {
    return detail::make_sender(sch, detail::make_receive_kind(socket, flags, std::forward<Buffers>(buffers)));
  }
  /** `net::async_receive(socket, pool)`: a sender that receives the next bytes of `socket` into a
      buffer of `pool` (a `net::buffer_pool` registered with the socket's io_context).

      `socket` is a stream socket; a datagram socket does not compile (a pool's buffers hold a
      byte stream: a datagram's boundaries, and an empty datagram, which would read as the end of
      the stream, would be lost; receive datagrams with `async_receive(socket, buffers)`).

      Completion signatures: `set_value_t(net::pooled_buffer)` (the bytes received, at most
      `pool.buffer_size()`; an empty `pooled_buffer` at end of stream, and again for every
      receive after it), `set_error_t(std::error_code)` (`errno` values in
      `std::system_category()`, after the data received before the error; `operation_aborted` if
      the socket is closed while it waits; `std::errc::no_buffer_space` once the pool was
      destroyed; `std::errc::invalid_argument` for a pool of another context, or a socket that
      received into another pool; `std::errc::operation_not_supported` on the test backend),
      `set_stopped_t()`.
      Cancellation: a stop request completes a waiting receive with `set_stopped()` unless it
      completed first; no data is lost: what arrives stays queued on the socket for the next
      receive. `socket.cancel()` does the same for every waiting receive.
      Buffer lifetime: the pooled_buffer owns its bytes; the caller keeps `pool` valid until
      completion. The socket may be closed or destroyed, on any thread, while the receive waits:
      it then completes on the context's thread with `operation_aborted`, unless it completed first.
      Thread safety: may be started from any thread. Data arriving between two receives is
      queued on the socket (io_uring: its multishot receive stays armed), never lost, never
      reordered; several receives pending on one socket take the chunks in start order. A
      receive completes in `start()` when queued data is there. Do not mix pooled and plain
      receives on one socket: the standing receive takes every byte that arrives.
      See docs/guide.md, "Receiving into a buffer pool". */
  template <detail::io_socket Socket>
  [[nodiscard]] auto operator()(Socket& socket, buffer_pool& pool) const {
    return detail::make_sender(detail::pooled_receive_kind<Socket>{&socket, &pool.native()});
  }

  template <io::detail::io_scheduler Sch, detail::io_socket Socket>
  [[nodiscard]] auto operator()(const Sch& sch, Socket& socket, buffer_pool& pool) const {
    return detail::make_sender(sch, detail::pooled_receive_kind<Socket>{&socket, &pool.native()});
  }
};

/** The `async_receive` customization point object. */
inline constexpr async_receive_t async_receive{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_RECEIVE_HPP
