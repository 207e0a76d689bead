// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_LOCAL_STREAM_PROTOCOL_HPP
#define SENET_LOCAL_STREAM_PROTOCOL_HPP

#include <senet/ip/detail/socket_fwd.hpp>
#include <senet/local/basic_endpoint.hpp>

#include <sys/socket.h>

namespace senet::local {

/** Unix domain stream sockets (`AF_UNIX`, `SOCK_STREAM`).

    A protocol object gives the arguments of `socket(2)`: `family()`, `type()`, `protocol()`.
    Its nested `endpoint` is `local::basic_endpoint<stream_protocol>`; the socket aliases name
    class templates of `senet::net` that `<senet/net/...>` headers define.
*/
class stream_protocol {
 public:
  /** A Unix domain address for this protocol. */
  using endpoint = basic_endpoint<stream_protocol>;
  /** The stream socket type (defined in `<senet/net/basic_stream_socket.hpp>`). */
  using socket = net::basic_stream_socket<stream_protocol>;
  /** The listening socket type (defined in `<senet/net/basic_socket_acceptor.hpp>`). */
  using acceptor = net::basic_socket_acceptor<stream_protocol>;

  /** `AF_UNIX`. */
  [[nodiscard]] constexpr int family() const noexcept { return AF_UNIX; }

  /** `SOCK_STREAM`. */
  [[nodiscard]] constexpr int type() const noexcept { return SOCK_STREAM; }

  /** 0, the default protocol of the family. */
  [[nodiscard]] constexpr int protocol() const noexcept { return 0; }

  friend constexpr bool operator==(const stream_protocol&, const stream_protocol&) noexcept = default;
};

}  // namespace senet::local

#endif  // SENET_LOCAL_STREAM_PROTOCOL_HPP
