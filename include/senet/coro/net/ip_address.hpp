// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_IP_ADDRESS_HPP
#define SENET_CORO_NET_IP_ADDRESS_HPP

#include <senet/ip/address.hpp>

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace senet::coro::net {

/** The address family of a facade socket or address, as libcoro 0.15 has it: the enumerators are
    the `AF_*` values, so `static_cast<int>(domain)` is what `socket(2)` takes. */
enum class domain_t : int {
  /** IPv4 (`AF_INET`). */
  ipv4 = AF_INET,
  /** IPv6 (`AF_INET6`). */
  ipv6 = AF_INET6,
};

/** "ipv4" or "ipv6"; throws `std::logic_error` for any other value. */
[[nodiscard]] const std::string& to_string(domain_t domain);

/** An IPv4 or IPv6 address in libcoro 0.15's shape: a domain and the address bytes in network
    order, which `data()` shows as 4 or 16 bytes.

    Parsing and formatting are senet's (`senet::ip::make_address_v4` / `make_address_v6`,
    `address_v4::to_string` / `address_v6::to_string`): `from_string` accepts what those accept
    minus IPv6 zones ("fe80::1%eth0" is refused, as libcoro's `inet_pton` refuses it, since this
    type has no scope id), and `to_string` writes dotted decimal or the RFC 5952 form ("::1",
    "123:4567:89ab:cdef:123:4567:89ab:cdef"), as libcoro's `inet_ntop` does. `to_address()` and the
    explicit constructor from `senet::ip::address` convert to and from senet's own type.

    Errors are thrown as `std::system_error` (`std::errc::invalid_argument`), which is a
    `std::runtime_error`, what libcoro throws, so its `catch` clauses keep working.

    Ordering (`<=>`, `==`) compares the domain (IPv4 first) and then the bytes, as libcoro's does.
    A default constructed address is the IPv4 address 0.0.0.0.
*/
class ip_address {
 public:
  /** The size of an IPv4 address in bytes. */
  static constexpr std::size_t ipv4_len{4};
  /** The size of an IPv6 address in bytes. */
  static constexpr std::size_t ipv6_len{16};

  /** 0.0.0.0 */
  ip_address() = default;

  /** The address of `domain` whose first bytes are `binary_address` (network order; missing
      trailing bytes are zero). Throws `std::system_error` when `binary_address` is longer than
      an address of `domain` (4 or 16 bytes). Implicit, as libcoro's. */
  ip_address(std::span<const std::uint8_t> binary_address,  // NOLINT(google-explicit-constructor)
             domain_t domain = domain_t::ipv4);

  /** The address `address` (an IPv6 address's scope id is dropped). */
  explicit ip_address(const senet::ip::address& address) noexcept;

  /** The domain: `ipv4` or `ipv6`. */
  [[nodiscard]] domain_t domain() const noexcept { return domain_; }

  /** The address bytes in network order: 4 for IPv4, 16 for IPv6. They live in this object. */
  [[nodiscard]] std::span<const std::uint8_t> data() const noexcept {
    return {data_.data(), domain_ == domain_t::ipv4 ? ipv4_len : ipv6_len};
  }

  /** Parses `address` as an address of `domain` ("127.0.0.1"; "::1" with `domain_t::ipv6`).
      Throws `std::system_error` (`std::errc::invalid_argument`) when the text is not one, naming
      the text. */
  [[nodiscard]] static ip_address from_string(const std::string& address, domain_t domain = domain_t::ipv4);

  /** The text form: dotted decimal for IPv4, RFC 5952 for IPv6. */
  [[nodiscard]] std::string to_string() const;

  /** The same address as a `senet::ip::address`. */
  [[nodiscard]] senet::ip::address to_address() const noexcept;

  friend bool operator==(const ip_address&, const ip_address&) = default;
  friend std::strong_ordering operator<=>(const ip_address&, const ip_address&) = default;

 private:
  domain_t domain_{domain_t::ipv4};
  std::array<std::uint8_t, ipv6_len> data_{};
};

}  // namespace senet::coro::net

#endif  // SENET_CORO_NET_IP_ADDRESS_HPP
