// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_UDP_HPP
#define SENET_IP_UDP_HPP

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

/** UDP: the datagram protocol of IP, over IPv4 (`udp::v4()`) or IPv6 (`udp::v6()`).

    A protocol object gives the arguments of `socket(2)`: `family()`, `type()`, `protocol()`.
    Its nested `endpoint` is `basic_endpoint<udp>`; the socket aliases name class templates of
    `senet::net` that `<senet/net/...>` headers define.
*/
class udp {
 public:
  /** An address and port of this protocol. */
  using endpoint = basic_endpoint<udp>;
  /** The datagram socket type (defined in `<senet/net/basic_datagram_socket.hpp>`). */
  using socket = net::basic_datagram_socket<udp>;

  /** UDP over IPv4, as `v4()` (so that a closed socket can report a protocol). */
  constexpr udp() noexcept = default;

  /** UDP over IPv4. */
  [[nodiscard]] static constexpr udp v4() noexcept { return udp(AF_INET); }

  /** UDP over IPv6. */
  [[nodiscard]] static constexpr udp v6() noexcept { return udp(AF_INET6); }

  /** `AF_INET` or `AF_INET6`. */
  [[nodiscard]] constexpr int family() const noexcept { return family_; }

  /** `SOCK_DGRAM`. */
  [[nodiscard]] constexpr int type() const noexcept { return SOCK_DGRAM; }

  /** `IPPROTO_UDP`. */
  [[nodiscard]] constexpr int protocol() const noexcept { return IPPROTO_UDP; }

  friend constexpr bool operator==(const udp&, const udp&) noexcept = default;

 private:
  constexpr explicit udp(int family) noexcept : family_(family) {}

  int family_ = AF_INET;
};

}  // namespace senet::ip

#endif  // SENET_IP_UDP_HPP
