// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_ADDRESS_HPP
#define SENET_IP_ADDRESS_HPP

#include <senet/ip/address_v4.hpp>
#include <senet/ip/address_v6.hpp>
#include <senet/ip/bad_address_cast.hpp>

#include <compare>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

namespace senet::ip {

/** An IPv4 or an IPv6 address, version-independent.

    Converts implicitly from `address_v4` and `address_v6`. Ordering puts every IPv4 address before
    every IPv6 address, then orders as the contained addresses do. An IPv4 address and its
    IPv4-mapped IPv6 form are different addresses. A default constructed address is 0.0.0.0.
*/
class address {
 public:
  /** 0.0.0.0 */
  constexpr address() noexcept = default;

  /** The IPv4 address `a`. */
  constexpr address(const address_v4& a) noexcept : v4_(a) {}  // NOLINT(google-explicit-constructor)

  /** The IPv6 address `a`. */
  constexpr address(const address_v6& a) noexcept
      : is_v6_(true), v6_(a) {}  // NOLINT(google-explicit-constructor)

  /** True if this is an IPv4 address. */
  [[nodiscard]] constexpr bool is_v4() const noexcept { return !is_v6_; }

  /** True if this is an IPv6 address. */
  [[nodiscard]] constexpr bool is_v6() const noexcept { return is_v6_; }

  /** The IPv4 address; throws `bad_address_cast` if this is IPv6. */
  [[nodiscard]] constexpr address_v4 to_v4() const {
    if (is_v6_) {
      throw bad_address_cast();
    }
    return v4_;
  }

  /** The IPv6 address; throws `bad_address_cast` if this is IPv4. */
  [[nodiscard]] constexpr address_v6 to_v6() const {
    if (!is_v6_) {
      throw bad_address_cast();
    }
    return v6_;
  }

  /** True for a loopback address of either version. */
  [[nodiscard]] constexpr bool is_loopback() const noexcept {
    return is_v6_ ? v6_.is_loopback() : v4_.is_loopback();
  }

  /** True for 0.0.0.0 and ::. */
  [[nodiscard]] constexpr bool is_unspecified() const noexcept {
    return is_v6_ ? v6_.is_unspecified() : v4_.is_unspecified();
  }

  /** True for a multicast address of either version. */
  [[nodiscard]] constexpr bool is_multicast() const noexcept {
    return is_v6_ ? v6_.is_multicast() : v4_.is_multicast();
  }

  /** The text form of the contained address. */
  [[nodiscard]] std::string to_string() const { return is_v6_ ? v6_.to_string() : v4_.to_string(); }

  friend constexpr bool operator==(const address& a, const address& b) noexcept {
    return a.is_v6_ == b.is_v6_ && (a.is_v6_ ? a.v6_ == b.v6_ : a.v4_ == b.v4_);
  }
  friend constexpr std::strong_ordering operator<=>(const address& a, const address& b) noexcept {
    if (a.is_v6_ != b.is_v6_) {
      return a.is_v6_ ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    return a.is_v6_ ? a.v6_ <=> b.v6_ : a.v4_ <=> b.v4_;
  }

 private:
  bool is_v6_ = false;
  address_v4 v4_;
  address_v6 v6_;
};

/** Parses an IPv4 or IPv6 address: text holding a ':' is read as by `make_address_v6`, any other
    as by `make_address_v4` (see those for the accepted forms and the errors). `text` need not be
    NUL-terminated, and no character outside it is read. On error the result is 0.0.0.0. */
[[nodiscard]] address make_address(std::string_view text, std::error_code& ec) noexcept;

/** As `make_address(text, ec)`, throwing `std::system_error` on error. */
[[nodiscard]] address make_address(std::string_view text);

/** Writes `a.to_string()`. */
std::ostream& operator<<(std::ostream& os, const address& a);

}  // namespace senet::ip

/** Hashes an address by its version and the contained address. */
template <>
struct std::hash<senet::ip::address> {
  [[nodiscard]] std::size_t operator()(const senet::ip::address& a) const noexcept {
    return a.is_v6() ? std::hash<senet::ip::address_v6>{}(a.to_v6()) ^ 0x5bd1e995u
                     : std::hash<senet::ip::address_v4>{}(a.to_v4());
  }
};

#endif  // SENET_IP_ADDRESS_HPP
