// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_TCP_HPP
#define SENET_IP_TCP_HPP

#include <senet/ip/basic_endpoint.hpp>
#include <senet/ip/detail/socket_fwd.hpp>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>  // sockaddr_in6, socklen_t
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

namespace senet::ip {

/** TCP: the stream protocol of IP, over IPv4 (`tcp::v4()`) or IPv6 (`tcp::v6()`).

    A protocol object gives the arguments of `socket(2)`: `family()`, `type()`, `protocol()`.
    Its nested `endpoint` is `basic_endpoint<tcp>`; the socket aliases name class templates of
    `senet::net` that `<senet/net/...>` headers define.
*/
class tcp {
 public:
  /** An address and port of this protocol. */
  using endpoint = basic_endpoint<tcp>;
  /** The stream socket type (defined in `<senet/net/basic_stream_socket.hpp>`). */
  using socket = net::basic_stream_socket<tcp>;
  /** The listening socket type (defined in `<senet/net/basic_socket_acceptor.hpp>`). */
  using acceptor = net::basic_socket_acceptor<tcp>;

  /** TCP over IPv4, as `v4()` (so that a closed socket can report a protocol). */
  constexpr tcp() noexcept = default;

  /** TCP over IPv4. */
  [[nodiscard]] static constexpr tcp v4() noexcept { return tcp(AF_INET); }

  /** TCP over IPv6. */
  [[nodiscard]] static constexpr tcp v6() noexcept { return tcp(AF_INET6); }

  /** `AF_INET` or `AF_INET6`. */
  [[nodiscard]] constexpr int family() const noexcept { return family_; }

  /** `SOCK_STREAM`. */
  [[nodiscard]] constexpr int type() const noexcept { return SOCK_STREAM; }

  /** `IPPROTO_TCP`. */
  [[nodiscard]] constexpr int protocol() const noexcept { return IPPROTO_TCP; }

  friend constexpr bool operator==(const tcp&, const tcp&) noexcept = default;

 private:
  constexpr explicit tcp(int family) noexcept : family_(family) {}

  int family_ = AF_INET;
};

}  // namespace senet::ip

#endif  // SENET_IP_TCP_HPP
