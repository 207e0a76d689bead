// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_DETAIL_IP_SOCKET_HPP
#define SENET_CORO_NET_DETAIL_IP_SOCKET_HPP

/* The senet socket under a facade `coro::net::socket`. libcoro has one socket type for TCP
   (connected and listening) and UDP, chosen at run time; senet's sockets are typed by protocol.
   `ip_protocol` is a protocol whose family and type are run-time values, so that one
   `senet::net::basic_socket` serves every facade socket: opening (non-blocking, close-on-exec),
   closing and moving, the synchronous system calls, the readiness waits and the asynchronous
   operations are senet's, not written again here. */

#include <senet/io/poll_events.hpp>
#include <senet/ip/detail/endpoint.hpp>
#include <senet/net/basic_socket.hpp>
#include <senet/net/socket_base.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <system_error>

namespace senet::coro::net::detail {

/** A protocol of IP chosen at run time: `AF_INET` / `AF_INET6`, `SOCK_STREAM` / `SOCK_DGRAM`. Its
    endpoint has no `protocol()`, so senet's operations never reopen a facade socket. */
class ip_protocol {
 public:
  using endpoint = senet::ip::detail::endpoint;

  /** TCP over IPv4. */
  constexpr ip_protocol() noexcept = default;
  constexpr ip_protocol(int family, int type) noexcept : family_(family), type_(type) {}

  /** The protocol of the open socket `fd` (`SO_DOMAIN`, `SO_TYPE`); TCP over IPv4 when the kernel
      cannot tell (not a socket). */
  [[nodiscard]] static ip_protocol of(int fd) noexcept;

  [[nodiscard]] constexpr int family() const noexcept { return family_; }
  [[nodiscard]] constexpr int type() const noexcept { return type_; }
  [[nodiscard]] constexpr int protocol() const noexcept { return 0; }

  friend constexpr bool operator==(const ip_protocol&, const ip_protocol&) noexcept = default;

 private:
  int family_ = AF_INET;
  int type_ = SOCK_STREAM;
};

/** `basic_socket<ip_protocol>` with its synchronous message calls made public, and accept. */
class ip_socket final : public senet::net::basic_socket<ip_protocol> {
  using base = senet::net::basic_socket<ip_protocol>;

 public:
  ip_socket() noexcept = default;
  explicit ip_socket(const ip_protocol& p) : base(p) {}
  ip_socket(ip_socket&&) noexcept = default;
  ip_socket& operator=(ip_socket&&) noexcept = default;
  ~ip_socket() = default;

  using base::receive_message;
  using base::send_message;

  /** accept4(2) of a waiting connection into the closed socket `peer` and its address into
      `from` (if given), as `basic_socket_acceptor::accept` does it; `ec` set and `peer` closed on
      failure (`std::errc::operation_would_block` when none waits). */
  void accept(ip_socket& peer, ip_protocol::endpoint* from, std::error_code& ec) noexcept;
};

/** The `socket_base::wait_type` that waits for `events` (`readable`, `writable`; 0, which the wait
    reports as an invalid argument, for neither). */
[[nodiscard]] constexpr senet::net::socket_base::wait_type wait_type_of(io::poll_events events) noexcept {
  int w = 0;
  if ((events & io::poll_events::readable) != io::poll_events::none) {
    w |= senet::net::socket_base::wait_read;
  }
  if ((events & io::poll_events::writable) != io::poll_events::none) {
    w |= senet::net::socket_base::wait_write;
  }
  return static_cast<senet::net::socket_base::wait_type>(w);
}

}  // namespace senet::coro::net::detail

#endif  // SENET_CORO_NET_DETAIL_IP_SOCKET_HPP
