// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_STREAM_SOCKET_HPP
#define SENET_NET_BASIC_STREAM_SOCKET_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/detail/socket_awaitable.hpp>
#include <senet/net/message_flags.hpp>

#include <cstddef>
#include <system_error>
#include <utility>

namespace senet::net {

/** A connection-oriented socket (TCP, local stream): what `async_connect` connects and
    `async_accept` produces.

    Data moves with `net::async_receive` / `async_send` / `async_read_some` / `async_write_some`
    and the composed `net::async_read` / `async_write`; in a coroutine with the awaitables
    `co_await read_some(buffers)` / `write_some(buffers)`, which give `(std::error_code,
    std::size_t)` and never throw; or at once with the synchronous `send` / `receive`
    (`write_some(buffers, ec)` / `read_some(buffers, ec)`). See `basic_socket` for ownership, errors, thread
    safety, `connect` and `non_blocking()`.
*/
template <class Protocol>
class basic_stream_socket : public basic_socket<Protocol> {
  using base = basic_socket<Protocol>;

 public:
  using typename base::endpoint_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;

  /// A closed socket; `open` it or move an accepted socket into it.
  basic_stream_socket() noexcept = default;

  /// A socket opened for `p` (non-blocking, close-on-exec); throws `std::system_error` on failure.
  explicit basic_stream_socket(const protocol_type& p) : base(p) {}

  /// Takes ownership of `native_fd`, a connected or unconnected socket of protocol `p` (as
  /// `accept4(..., SOCK_NONBLOCK | SOCK_CLOEXEC)` returns it).
  basic_stream_socket(const protocol_type& p, native_handle_type native_fd) : base(p, native_fd) {}

  basic_stream_socket(basic_stream_socket&&) noexcept = default;
  basic_stream_socket& operator=(basic_stream_socket&&) noexcept = default;
  ~basic_stream_socket() = default;

  // ---- Synchronous operations (see basic_socket::non_blocking) ----

  /** Sends bytes of `buffers` at once (sendmsg(2) with `flags | MSG_NOSIGNAL`, so a peer that is
      gone gives `std::errc::broken_pipe`, never `SIGPIPE`); returns how many were sent, which may
      be fewer than `buffer_size(buffers)`.

      Errors (the `std::error_code&` form returns 0 with `ec` set; the others throw
      `std::system_error`): `senet::error::not_open`; `std::errc::operation_would_block` when the
      kernel's send buffer is full and the socket is `non_blocking()` (the default; otherwise the
      call waits until some bytes fit); `std::errc::broken_pipe`, `connection_reset`, ... as the
      kernel reports them; `std::errc::argument_list_too_long` for more than `IOV_MAX` buffers.
      Empty `buffers` return 0 without a system call. `EINTR` is retried.
      Buffer lifetime: only during the call. Thread safety: see `basic_socket`. */
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers, message_flags flags, std::error_code& ec) noexcept {
    if (buffer_size(buffers) == 0) {
      this->check_open(ec);
      return 0;
    }
    return this->send_message(buffers, flags, nullptr, ec);
  }
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers, message_flags flags) {
    std::error_code ec;
    std::size_t n = send(buffers, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_stream_socket::send");
    return n;
  }
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers) {
    return send(buffers, message_flags{});
  }

  /** Receives the bytes already queued into `buffers` (recvmsg(2)); returns how many.

      When the peer has closed its end and every byte was received, the call fails with
      `senet::error::eof`, as Asio's synchronous receive does (the asynchronous `net::async_receive`
      completes with 0 instead, P2762): so a 0 never means "end of stream" here, and a loop that
      receives until `ec == senet::error::eof` ends. Other errors (the `std::error_code&` form
      returns 0 with `ec` set; the others throw `std::system_error`): `senet::error::not_open`;
      `std::errc::operation_would_block` when nothing is queued and the socket is
      `non_blocking()` (the default; otherwise the call waits for data); `std::errc::
      connection_reset` and others as the kernel reports them; `std::errc::argument_list_too_long`
      for more than `IOV_MAX` buffers. Empty `buffers` return 0 without a system call. `EINTR` is
      retried.
      Buffer lifetime: only during the call. Thread safety: see `basic_socket`. */
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers, message_flags flags, std::error_code& ec) noexcept {
    if (buffer_size(buffers) == 0) {
      this->check_open(ec);
      return 0;
    }
    std::size_t n = this->receive_message(buffers, flags, nullptr, ec);
    if (n == 0 && !ec) {
      ec = senet::error::eof;
    }
    return n;
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers, message_flags flags) {
    std::error_code ec;
    std::size_t n = receive(buffers, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_stream_socket::receive");
    return n;
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers) {
    return receive(buffers, message_flags{});
  }

  /** `send(buffers, message_flags{}, ec)`: the *SyncWriteStream* spelling (synchronous; the
      one-argument `write_some(buffers)` is the awaitable below). */
  template <const_buffer_sequence Buffers>
  std::size_t write_some(const Buffers& buffers, std::error_code& ec) noexcept {
    return send(buffers, message_flags{}, ec);
  }

  /** `receive(buffers, message_flags{}, ec)`: the *SyncReadStream* spelling (synchronous; the
      one-argument `read_some(buffers)` is the awaitable below). */
  template <mutable_buffer_sequence Buffers>
  std::size_t read_some(const Buffers& buffers, std::error_code& ec) noexcept {
    return receive(buffers, message_flags{}, ec);
  }

  // ---- Awaitable operations (stream::read_stream / stream::write_stream) ----

  /** `co_await sock.read_some(buffers)`: receives some bytes into `buffers`, as
      `net::async_receive` does, and gives `std::tuple<std::error_code, std::size_t>`; never
      throws.

      Results of `auto [ec, n] = co_await sock.read_some(buffers);`: `!ec`, `n >= 1` on success;
      `(senet::error::eof, 0)` at end of stream; `(senet::error::operation_aborted, 0)` when
      cancelled (a stop request of the awaiting coroutine, or the socket closed or cancelled while
      it waited); `(ec, 0)` for any other error (as `async_receive` reports them). Empty `buffers`
      give `(no error, 0)` at once, without a system call.
      Suspension: when data is already there it completes without suspending the coroutine, on
      every backend (the receive is tried first, also on io_uring, when started on the context's
      thread). In a `senet::task` the operation starts in `await_ready()`; in another coroutine
      whose promise's environment has an I/O scheduler, in `await_suspend()`.
      Cancellation: the awaiting task's stop token (another coroutine's `ex::inplace_stop_token`).
      Buffer lifetime: `*this` and the bytes of `buffers` stay valid until the `co_await`
      completes (the returned awaitable refers to them; await it in the expression that makes it).
      Thread safety: as `async_receive`; receives complete in start order.
      Models `stream::read_stream`. See P2762 §3.2 ("a coroutine-friendly version of the
      operations"). */
  template <mutable_buffer_sequence Buffers>
  [[nodiscard]] auto read_some(Buffers&& buffers) {
    return detail::make_socket_awaitable<false>(*this, std::forward<Buffers>(buffers));
  }

  /** `co_await sock.write_some(buffers)`: sends some bytes of `buffers`, as `net::async_send`
      does, and gives `std::tuple<std::error_code, std::size_t>`; never throws.

      Results: `!ec`, `n >= 1` on success (possibly fewer than `buffer_size(buffers)`);
      `(senet::error::operation_aborted, 0)` when cancelled; `(ec, 0)` for any other error
      (`std::errc::broken_pipe` when the peer is gone: no `SIGPIPE`). Empty `buffers` give
      `(no error, 0)` at once.
      Suspension: when the socket's send buffer has room it completes without suspending, on every
      backend. Cancellation, buffer lifetime, thread safety: as `read_some`.
      Models `stream::write_stream`; `stream::write_now` writes a whole sequence with it. */
  template <const_buffer_sequence Buffers>
  [[nodiscard]] auto write_some(Buffers&& buffers) {
    return detail::make_socket_awaitable<true>(*this, std::forward<Buffers>(buffers));
  }
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_STREAM_SOCKET_HPP
