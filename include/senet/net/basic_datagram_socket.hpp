// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_DATAGRAM_SOCKET_HPP
#define SENET_NET_BASIC_DATAGRAM_SOCKET_HPP

#include <senet/net/basic_socket.hpp>

namespace senet::net {

/** A datagram socket (UDP).

    Datagrams move with `net::async_send_to` / `async_receive_from`, or, after `async_connect`
    has fixed the peer, with `async_send` / `async_receive`. See `basic_socket` for ownership,
    errors and thread safety.
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
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_DATAGRAM_SOCKET_HPP
