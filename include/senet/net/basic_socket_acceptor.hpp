// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP
#define SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP

#include <system_error>

#include <senet/net/basic_socket.hpp>
#include <senet/net/basic_stream_socket.hpp>

namespace senet::net {

/** A listening socket: `net::async_accept(acceptor)` completes with a `socket_type` and the peer's
    `endpoint_type`.

    See `basic_socket` for ownership, errors and thread safety.
*/
template <class Protocol>
class basic_socket_acceptor : public basic_socket<Protocol> {
  using base = basic_socket<Protocol>;

 public:
  using typename base::endpoint_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  /// What `async_accept` produces.
  using socket_type = basic_stream_socket<Protocol>;

  /// A closed acceptor.
  basic_socket_acceptor() noexcept = default;

  /// An acceptor opened for `p`, neither bound nor listening; throws on failure.
  explicit basic_socket_acceptor(const protocol_type& p) : base(p) {}

  /** An acceptor listening on `ep`: open, set `reuse_address` (if asked), bind, listen.

      Bind to port 0 and read `local_endpoint().port()` to let the kernel pick a free port.
      Throws `std::system_error` on failure (for example `std::errc::address_in_use`).
  */
  explicit basic_socket_acceptor(const endpoint_type& ep, bool reuse_address = true,
                                 int backlog = socket_base::max_listen_connections)
      : base(ep.protocol()) {
    if (reuse_address) {
      this->set_option(socket_base::reuse_address{true});
    }
    this->bind(ep);
    listen(backlog);
  }

  /// Takes ownership of `native_fd`, a socket of protocol `p` (listening or not).
  basic_socket_acceptor(const protocol_type& p, native_handle_type native_fd) : base(p, native_fd) {}

  basic_socket_acceptor(basic_socket_acceptor&&) noexcept = default;
  basic_socket_acceptor& operator=(basic_socket_acceptor&&) noexcept = default;
  ~basic_socket_acceptor() = default;

  /// Starts listening for connections (listen(2)); `backlog` defaults to the system's maximum.
  void listen(int backlog, std::error_code& ec) noexcept {
    if (this->check_open(ec)) {
      detail::listen(this->native_handle(), backlog, ec);
    }
  }
  void listen(std::error_code& ec) noexcept { listen(socket_base::max_listen_connections, ec); }
  void listen(int backlog = socket_base::max_listen_connections) {
    std::error_code ec;
    listen(backlog, ec);
    detail::throw_on_error(ec, "senet::net::basic_socket_acceptor::listen");
  }
};

}  // namespace senet::net

#endif  // SENET_NET_BASIC_SOCKET_ACCEPTOR_HPP
