// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_DATAGRAM_SOCKET_HPP
#define SENET_NET_BASIC_DATAGRAM_SOCKET_HPP

#include <senet/buffer.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/message_flags.hpp>

#include <cstddef>
#include <system_error>

namespace senet::net {

/** A datagram socket (UDP).

    Datagrams move with `net::async_send_to` / `async_receive_from`, or, after `async_connect`
    has fixed the peer, with `async_send` / `async_receive`; or at once with the synchronous
    `send_to` / `receive_from` / `send` / `receive`. See `basic_socket` for ownership, errors,
    thread safety, `connect` and `non_blocking()`.

    A datagram longer than the buffers of a receive is not silently cut: every receive (these
    members, `net::async_receive` and `net::async_receive_from`) fails with
    `std::errc::message_size` (`EMSGSIZE`, as Asio's `error::message_size`); the buffers then
    hold the start of the datagram and the rest is discarded. With `message_flags::truncate` the
    receive succeeds instead and reports the datagram's real length, as recv(2) does.
*/
template <class Protocol>
class basic_datagram_socket : public basic_socket<Protocol> {
  using base = basic_socket<Protocol>;

 public:
  using typename base::endpoint_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;

  /// A closed socket.
  basic_datagram_socket() noexcept = default;

  /// A socket opened for `p`; throws `std::system_error` on failure.
  explicit basic_datagram_socket(const protocol_type& p) : base(p) {}

  /// A socket opened for `ep.protocol()` and bound to `ep`; throws `std::system_error` on failure.
  explicit basic_datagram_socket(const endpoint_type& ep) : base(ep.protocol()) { this->bind(ep); }

  /// Takes ownership of `native_fd`, a datagram socket of protocol `p`.
  basic_datagram_socket(const protocol_type& p, native_handle_type native_fd) : base(p, native_fd) {}

  basic_datagram_socket(basic_datagram_socket&&) noexcept = default;
  basic_datagram_socket& operator=(basic_datagram_socket&&) noexcept = default;
  ~basic_datagram_socket() = default;

  // ---- Synchronous operations (see basic_socket::non_blocking) ----
  //
  // Common to all of them: the `std::error_code&` form returns 0 with `ec` set on failure, the
  // others throw `std::system_error`; `senet::error::not_open` on a closed socket;
  // `std::errc::operation_would_block` when the kernel would block and the socket is
  // `non_blocking()` (the default; otherwise the call waits until it can proceed);
  // `std::errc::argument_list_too_long` for more than `IOV_MAX` buffers; other errors as the
  // kernel reports them. `EINTR` is retried; sends add `MSG_NOSIGNAL`. Buffer lifetime: only
  // during the call. Thread safety: see `basic_socket`.

  /** Sends one datagram made of `buffers` to `destination` (sendmsg(2)); returns its size.
      Errors include `std::errc::message_size` for a datagram larger than the protocol allows. */
  template <const_buffer_sequence Buffers>
  std::size_t send_to(const Buffers& buffers, const endpoint_type& destination, message_flags flags,
                      std::error_code& ec) noexcept {
    return this->send_message(buffers, flags, &destination, ec);
  }
  template <const_buffer_sequence Buffers>
  std::size_t send_to(const Buffers& buffers, const endpoint_type& destination, message_flags flags) {
    std::error_code ec;
    std::size_t n = send_to(buffers, destination, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_datagram_socket::send_to");
    return n;
  }
  template <const_buffer_sequence Buffers>
  std::size_t send_to(const Buffers& buffers, const endpoint_type& destination) {
    return send_to(buffers, destination, message_flags{});
  }

  /** Receives one datagram into `buffers` and its source address into `source` (recvmsg(2));
      returns its size (0 for an empty datagram). A datagram longer than `buffers` fails with
      `std::errc::message_size` (the `std::error_code&` form then returns the bytes stored, the
      start of the datagram) unless `flags` has `message_flags::truncate`, which returns the real
      length. */
  template <mutable_buffer_sequence Buffers>
  std::size_t receive_from(const Buffers& buffers, endpoint_type& source, message_flags flags,
                           std::error_code& ec) noexcept {
    return this->receive_message(buffers, flags, &source, ec);
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive_from(const Buffers& buffers, endpoint_type& source, message_flags flags) {
    std::error_code ec;
    std::size_t n = receive_from(buffers, source, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_datagram_socket::receive_from");
    return n;
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive_from(const Buffers& buffers, endpoint_type& source) {
    return receive_from(buffers, source, message_flags{});
  }

  /** Sends one datagram to the connected peer (see `connect`); as `send_to`. Without a peer:
      `std::errc::destination_address_required`. */
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers, message_flags flags, std::error_code& ec) noexcept {
    return this->send_message(buffers, flags, nullptr, ec);
  }
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers, message_flags flags) {
    std::error_code ec;
    std::size_t n = send(buffers, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_datagram_socket::send");
    return n;
  }
  template <const_buffer_sequence Buffers>
  std::size_t send(const Buffers& buffers) {
    return send(buffers, message_flags{});
  }

  /** Receives one datagram without its source address; as `receive_from`. */
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers, message_flags flags, std::error_code& ec) noexcept {
    return this->receive_message(buffers, flags, nullptr, ec);
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers, message_flags flags) {
    std::error_code ec;
    std::size_t n = receive(buffers, flags, ec);
    detail::throw_on_error(ec, "senet::net::basic_datagram_socket::receive");
    return n;
  }
  template <mutable_buffer_sequence Buffers>
  std::size_t receive(const Buffers& buffers) {
    return receive(buffers, message_flags{});
  }
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_DATAGRAM_SOCKET_HPP
