// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_BASIC_ENDPOINT_HPP
#define SENET_IP_BASIC_ENDPOINT_HPP

#include <senet/ip/address.hpp>
#include <senet/ip/detail/endpoint.hpp>

#include <compare>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <system_error>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>  // socklen_t
#else
#include <sys/socket.h>
#endif

namespace senet::ip {

/** An IP address and a port, for the protocol `Protocol` (`ip::tcp`, `ip::udp`): what a socket
    binds to, connects to, accepts from.

    Storage is a `sockaddr_in` or `sockaddr_in6` in a union inside the object (no heap), handed to
    the system as P2762's "as if" code does:
    ```
    typename Socket::endpoint_type ep;
    socklen_t len{ep.capacity()};
    int fd = accept(listener, ep.data(), &len);   // the kernel writes the address
    ep.resize(len);
    connect(s, ep.data(), ep.size());
    ```
    The address family stored in `data()` decides the version: `size()` is the size of that
    family's `sockaddr`, and `protocol()` is `Protocol::v4()` or `Protocol::v6()`.

    A default constructed endpoint is 0.0.0.0 port 0. Equality compares address (with scope id) and
    port; ordering compares the address first.
*/
template <class Protocol>
class basic_endpoint {
 public:
  /** The protocol (`ip::tcp`, `ip::udp`). */
  using protocol_type = Protocol;
  /** The type `data()` points to. */
  using data_type = ::sockaddr;

  /** 0.0.0.0, port 0. */
  basic_endpoint() noexcept = default;

  /** The unspecified address of `protocol`'s version (0.0.0.0 or ::) and `port`: what a server
      binds to to accept on every interface: `tcp::endpoint(tcp::v6(), 8080)`. */
  basic_endpoint(const protocol_type& protocol, port_type port) noexcept : impl_(protocol.family(), port) {}

  /** `address` and `port`. */
  basic_endpoint(const ip::address& address, port_type port) noexcept : impl_(address, port) {}

  /** `Protocol::v4()` or `Protocol::v6()`, after the stored family. */
  [[nodiscard]] protocol_type protocol() const noexcept {
    return impl_.is_v6() ? protocol_type::v6() : protocol_type::v4();
  }

  /** The stored `sockaddr`, for the system to read or write. */
  [[nodiscard]] data_type* data() noexcept { return impl_.data(); }
  /** The stored `sockaddr`, for the system to read. */
  [[nodiscard]] const data_type* data() const noexcept { return impl_.data(); }

  /** The size of the stored family's `sockaddr`: `sizeof(sockaddr_in)` or `sizeof(sockaddr_in6)`. */
  [[nodiscard]] ::socklen_t size() const noexcept { return impl_.size(); }

  /** How many bytes `data()` can hold: the size of the union of `sockaddr_in` and `sockaddr_in6`. */
  [[nodiscard]] static constexpr ::socklen_t capacity() noexcept { return detail::endpoint::capacity(); }

  /** Records that the system wrote `n` bytes at `data()`. `n > capacity()` is an error
      (`std::errc::invalid_argument`, nothing changes); otherwise the stored family decides `size()`. */
  void resize(std::size_t n, std::error_code& ec) noexcept { impl_.resize(n, ec); }

  /** As `resize(n, ec)`, throwing `std::system_error` on error. */
  void resize(std::size_t n) {
    std::error_code ec;
    impl_.resize(n, ec);
    if (ec) {
      throw std::system_error(ec, "senet::ip::basic_endpoint::resize");
    }
  }

  /** The address (with the scope id of an IPv6 address). */
  [[nodiscard]] ip::address address() const noexcept { return impl_.address(); }

  /** Replaces the address (and the family with it), keeping the port. */
  void address(const ip::address& a) noexcept { impl_.address(a); }

  /** The port, in host byte order. */
  [[nodiscard]] port_type port() const noexcept { return impl_.port(); }

  /** Replaces the port. */
  void port(port_type p) noexcept { impl_.port(p); }

  /** "192.0.2.1:80", "[2001:db8::1]:80", "[fe80::1%eth0]:80". */
  [[nodiscard]] std::string to_string() const { return impl_.to_string(); }

  friend bool operator==(const basic_endpoint& a, const basic_endpoint& b) noexcept {
    return a.impl_ == b.impl_;
  }
  friend std::strong_ordering operator<=>(const basic_endpoint& a, const basic_endpoint& b) noexcept {
    return a.impl_ <=> b.impl_;
  }

  /** Writes `ep.to_string()`. */
  friend std::ostream& operator<<(std::ostream& os, const basic_endpoint& ep) { return os << ep.to_string(); }

 private:
  detail::endpoint impl_;
};

}  // namespace senet::ip

/** Hashes an endpoint by its address and port. */
template <class Protocol>
struct std::hash<senet::ip::basic_endpoint<Protocol>> {
  [[nodiscard]] std::size_t operator()(const senet::ip::basic_endpoint<Protocol>& ep) const noexcept {
    std::size_t h = std::hash<senet::ip::address>{}(ep.address());
    return h ^ (std::hash<senet::ip::port_type>{}(ep.port()) + 0x9e3779b9u + (h << 6) + (h >> 2));
  }
};

#endif  // SENET_IP_BASIC_ENDPOINT_HPP
