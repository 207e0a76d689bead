// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_STREAM_SOCKET_HPP
#define SENET_NET_BASIC_STREAM_SOCKET_HPP

#include <senet/net/basic_socket.hpp>

namespace senet::net {

/** A connection-oriented socket (TCP, local stream): what `async_connect` connects and
    `async_accept` produces.

    Data moves with `net::async_receive` / `async_send` / `async_read_some` / `async_write_some`
    and the composed `net::async_read` / `async_write`. See `basic_socket` for ownership, errors
    and thread safety.
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
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_STREAM_SOCKET_HPP
