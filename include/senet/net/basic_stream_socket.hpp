// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_STREAM_SOCKET_HPP
#define SENET_NET_BASIC_STREAM_SOCKET_HPP

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/message_flags.hpp>

#include <cstddef>
#include <system_error>

namespace senet::net {

/** A connection-oriented socket (TCP, local stream): what `async_connect` connects and
    `async_accept` produces.

    Data moves with `net::async_receive` / `async_send` / `async_read_some` / `async_write_some`
    and the composed `net::async_read` / `async_write`, or at once with the synchronous `send` /
    `receive` (`write_some` / `read_some`). See `basic_socket` for ownership, errors, thread
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

  /** `send(buffers, message_flags{}, ec)`: the *SyncWriteStream* spelling. */
  template <const_buffer_sequence Buffers>
  std::size_t write_some(const Buffers& buffers, std::error_code& ec) noexcept {
    return send(buffers, message_flags{}, ec);
  }
  template <const_buffer_sequence Buffers>
  std::size_t write_some(const Buffers& buffers) {
    return send(buffers, message_flags{});
  }

  /** `receive(buffers, message_flags{}, ec)`: the *SyncReadStream* spelling. */
  template <mutable_buffer_sequence Buffers>
  std::size_t read_some(const Buffers& buffers, std::error_code& ec) noexcept {
    return receive(buffers, message_flags{}, ec);
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t read_some(const Buffers& buffers) {
    return receive(buffers, message_flags{});
  }
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_STREAM_SOCKET_HPP
