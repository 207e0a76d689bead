// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_LOCAL_DATAGRAM_PROTOCOL_HPP
#define SENET_LOCAL_DATAGRAM_PROTOCOL_HPP

#include <senet/ip/detail/socket_fwd.hpp>
#include <senet/local/basic_endpoint.hpp>

#include <sys/socket.h>

namespace senet::local {

/** Unix domain datagram sockets (`AF_UNIX`, `SOCK_DGRAM`).

    A protocol object gives the arguments of `socket(2)`: `family()`, `type()`, `protocol()`.
    Its nested `endpoint` is `local::basic_endpoint<datagram_protocol>`; the socket aliases name
    class templates of `senet::net` that `<senet/net/...>` headers define.
*/
class datagram_protocol {
 public:
  /** A Unix domain address for this protocol. */
  using endpoint = basic_endpoint<datagram_protocol>;
  /** The datagram socket type (defined in `<senet/net/basic_datagram_socket.hpp>`). */
  using socket = net::basic_datagram_socket<datagram_protocol>;

  /** `AF_UNIX`. */
  [[nodiscard]] constexpr int family() const noexcept { return AF_UNIX; }

  /** `SOCK_DGRAM`. */
  [[nodiscard]] constexpr int type() const noexcept { return SOCK_DGRAM; }

  /** 0, the default protocol of the family. */
  [[nodiscard]] constexpr int protocol() const noexcept { return 0; }

  friend constexpr bool operator==(const datagram_protocol&, const datagram_protocol&) noexcept = default;
};

}  // namespace senet::local

#endif  // SENET_LOCAL_DATAGRAM_PROTOCOL_HPP
