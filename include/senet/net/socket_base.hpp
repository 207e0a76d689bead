// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_SOCKET_BASE_HPP
#define SENET_NET_SOCKET_BASE_HPP

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <senet/net/socket_option.hpp>

namespace senet::net {

/** The names every socket class shares: its options and the `shutdown` directions.

    `basic_socket` and the classes derived from it inherit from `socket_base`, so that
    `ip::tcp::socket::no_delay` or `net::tcp_acceptor::reuse_address` name the option classes as
    in Asio. `no_delay` only applies to TCP sockets and `v6_only` only to IPv6 sockets; the kernel
    rejects them elsewhere (`set_option` then reports its error).
*/
class socket_base {
 public:
  /// The directions `basic_socket::shutdown` can close.
  enum shutdown_type : int {
    shutdown_receive = SHUT_RD,
    shutdown_send = SHUT_WR,
    shutdown_both = SHUT_RDWR,
  };

  /// What `net::async_wait` waits for, with Asio's names: readable, writable, or an error or urgent
  /// data. Unlike Asio's, the values are bits: `wait_read | wait_write` waits for either.
  enum wait_type : int {
    wait_read = 1,
    wait_write = 2,
    wait_error = 4,
  };

  /// `SO_REUSEADDR`: allow binding an address still in `TIME_WAIT`.
  using reuse_address = socket_option::boolean<SOL_SOCKET, SO_REUSEADDR>;
  /// `SO_REUSEPORT`: let several sockets bind the same address (one io_context per core).
  using reuse_port = socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  /// `SO_KEEPALIVE`: send keep-alive probes on an idle connection.
  using keep_alive = socket_option::boolean<SOL_SOCKET, SO_KEEPALIVE>;
  /// `SO_BROADCAST`: allow sending datagrams to a broadcast address.
  using broadcast = socket_option::boolean<SOL_SOCKET, SO_BROADCAST>;
  /// `SO_SNDBUF`: the kernel's send buffer size in bytes.
  using send_buffer_size = socket_option::integer<SOL_SOCKET, SO_SNDBUF>;
  /// `SO_RCVBUF`: the kernel's receive buffer size in bytes.
  using receive_buffer_size = socket_option::integer<SOL_SOCKET, SO_RCVBUF>;
  /// `SO_LINGER`: see `socket_option::linger`.
  using linger = socket_option::linger;
  /// `TCP_NODELAY`: disable Nagle's algorithm (TCP sockets).
  using no_delay = socket_option::boolean<IPPROTO_TCP, TCP_NODELAY>;
  /// `IPV6_V6ONLY`: an IPv6 socket accepts IPv6 traffic only, not IPv4-mapped (IPv6 sockets).
  using v6_only = socket_option::boolean<IPPROTO_IPV6, IPV6_V6ONLY>;

  /// The backlog `listen()` uses by default: the system's maximum.
  static constexpr int max_listen_connections = SOMAXCONN;

 protected:
  socket_base() = default;
  ~socket_base() = default;
};

/// `wait_read | wait_write`: a `socket_base::wait_type` that waits for either.
[[nodiscard]] constexpr socket_base::wait_type operator|(socket_base::wait_type a,
                                                         socket_base::wait_type b) noexcept {
  return static_cast<socket_base::wait_type>(static_cast<int>(a) | static_cast<int>(b));
}

}  // namespace senet::net

#endif  // SENET_NET_SOCKET_BASE_HPP
