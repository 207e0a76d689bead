// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_DETAIL_ENDPOINT_HPP
#define SENET_IP_DETAIL_ENDPOINT_HPP

#include <senet/ip/address.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>  // sockaddr_in6, socklen_t
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

namespace senet::ip {

/** A TCP or UDP port number, in host byte order. */
using port_type = std::uint16_t;

namespace detail {

/** The protocol-independent part of `ip::basic_endpoint`: a `sockaddr_in` or a `sockaddr_in6`
    in a union (no heap), the address family telling which. */
class endpoint {
 public:
  endpoint() noexcept : endpoint(AF_INET, 0) {}

  endpoint(int family, port_type port) noexcept {
    clear();
    if (family == AF_INET6) {
      data_.v6.sin6_family = AF_INET6;
      data_.v6.sin6_port = htons(port);
    } else {
      data_.v4.sin_family = AF_INET;
      data_.v4.sin_port = htons(port);
    }
  }

  endpoint(const ip::address& a, port_type port) noexcept {
    clear();
    address(a);
    this->port(port);
  }

  [[nodiscard]] ::sockaddr* data() noexcept { return &data_.base; }
  [[nodiscard]] const ::sockaddr* data() const noexcept { return &data_.base; }

  [[nodiscard]] bool is_v6() const noexcept { return data_.base.sa_family == AF_INET6; }

  [[nodiscard]] int family() const noexcept { return is_v6() ? AF_INET6 : AF_INET; }

  [[nodiscard]] ::socklen_t size() const noexcept {
    return is_v6() ? static_cast<::socklen_t>(sizeof(::sockaddr_in6))
                   : static_cast<::socklen_t>(sizeof(::sockaddr_in));
  }

  [[nodiscard]] static constexpr ::socklen_t capacity() noexcept {
    return static_cast<::socklen_t>(sizeof(storage));
  }

  void resize(std::size_t n, std::error_code& ec) noexcept {
    if (n > capacity()) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    ec.clear();
  }

  [[nodiscard]] port_type port() const noexcept {
    return ntohs(is_v6() ? data_.v6.sin6_port : data_.v4.sin_port);
  }

  void port(port_type p) noexcept {
    if (is_v6()) {
      data_.v6.sin6_port = htons(p);
    } else {
      data_.v4.sin_port = htons(p);
    }
  }

  [[nodiscard]] ip::address address() const noexcept {
    if (is_v6()) {
      address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &data_.v6.sin6_addr, bytes.size());
      return address_v6(bytes, data_.v6.sin6_scope_id);
    }
    address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), &data_.v4.sin_addr, bytes.size());
    return address_v4(bytes);
  }

  void address(const ip::address& a) noexcept {
    const port_type p = port();
    clear();
    if (a.is_v6()) {
      const address_v6 a6 = a.to_v6();
      const address_v6::bytes_type bytes = a6.to_bytes();
      data_.v6.sin6_family = AF_INET6;
      data_.v6.sin6_port = htons(p);
      std::memcpy(&data_.v6.sin6_addr, bytes.data(), bytes.size());
      data_.v6.sin6_scope_id = a6.scope_id();
    } else {
      const address_v4::bytes_type bytes = a.to_v4().to_bytes();
      data_.v4.sin_family = AF_INET;
      data_.v4.sin_port = htons(p);
      std::memcpy(&data_.v4.sin_addr, bytes.data(), bytes.size());
    }
  }

  /** "192.0.2.1:80", "[2001:db8::1]:80", "[fe80::1%eth0]:80". */
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const endpoint& a, const endpoint& b) noexcept {
    return a.address() == b.address() && a.port() == b.port();
  }
  friend std::strong_ordering operator<=>(const endpoint& a, const endpoint& b) noexcept {
    if (auto c = a.address() <=> b.address(); c != 0) {
      return c;
    }
    return a.port() <=> b.port();
  }

 private:
  union storage {
    ::sockaddr base;
    ::sockaddr_in v4;
    ::sockaddr_in6 v6;
  };

  void clear() noexcept { std::memset(&data_, 0, sizeof data_); }

  storage data_;
};

}  // namespace detail
}  // namespace senet::ip

#endif  // SENET_IP_DETAIL_ENDPOINT_HPP
