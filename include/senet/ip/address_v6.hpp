// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_ADDRESS_V6_HPP
#define SENET_IP_ADDRESS_V6_HPP

#include <senet/ip/address_v4.hpp>
#include <senet/ip/bad_address_cast.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

namespace senet::ip {

/** The tag of the conversions between an IPv4 address and its IPv4-mapped IPv6 form
    (::ffff:a.b.c.d): `make_address_v6(v4_mapped, a4)`, `make_address_v4(v4_mapped, a6)`. */
struct v4_mapped_t {
  explicit v4_mapped_t() = default;
};
/** See `v4_mapped_t`. */
inline constexpr v4_mapped_t v4_mapped{};

/** An IPv6 address: sixteen bytes in network order, and a scope id (the interface index of a
    link-local address, RFC 4007; 0 when unscoped).

    Text form (RFC 5952 canonical form, as `to_string()` writes): lower-case hexadecimal groups
    without leading zeros, the longest run of two or more zero groups (the first of equal runs)
    written "::", IPv4-mapped addresses as "::ffff:192.0.2.1", then "%zone" when the scope id is not
    0. The zone is the interface name for link-local unicast (fe80::/10) and multicast (ffx2::/16)
    addresses when the interface exists, else the number.

    Two addresses are equal when their bytes and their scope ids are; ordering compares the bytes
    first, then the scope id. A default constructed address is the unspecified address ::.
*/
class address_v6 {
 public:
  /** The address as bytes in network order (most significant first). */
  using bytes_type = std::array<unsigned char, 16>;

  /** :: */
  constexpr address_v6() noexcept = default;

  /** The address whose bytes, in network order, are `bytes`, in scope `scope_id`. */
  constexpr explicit address_v6(const bytes_type& bytes, std::uint32_t scope_id = 0) noexcept
      : bytes_(bytes), scope_id_(scope_id) {}

  /** The bytes in network order. */
  [[nodiscard]] constexpr bytes_type to_bytes() const noexcept { return bytes_; }

  /** The scope id: an interface index, or 0. */
  [[nodiscard]] constexpr std::uint32_t scope_id() const noexcept { return scope_id_; }

  /** Sets the scope id. */
  constexpr void scope_id(std::uint32_t id) noexcept { scope_id_ = id; }

  /** True for ::. */
  [[nodiscard]] constexpr bool is_unspecified() const noexcept { return prefix_zero(16); }

  /** True for ::1. */
  [[nodiscard]] constexpr bool is_loopback() const noexcept { return prefix_zero(15) && bytes_[15] == 1; }

  /** True for ff00::/8. */
  [[nodiscard]] constexpr bool is_multicast() const noexcept { return bytes_[0] == 0xff; }

  /** True for fe80::/10, link-local unicast. */
  [[nodiscard]] constexpr bool is_link_local() const noexcept {
    return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
  }

  /** True for fec0::/10, the deprecated site-local unicast. */
  [[nodiscard]] constexpr bool is_site_local() const noexcept {
    return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0xc0;
  }

  /** True for ::ffff:0:0/96, the IPv4-mapped addresses. */
  [[nodiscard]] constexpr bool is_v4_mapped() const noexcept {
    return prefix_zero(10) && bytes_[10] == 0xff && bytes_[11] == 0xff;
  }

  /** True for multicast with node-local (interface-local) scope, ffx1::/16. */
  [[nodiscard]] constexpr bool is_multicast_node_local() const noexcept {
    return is_multicast() && (bytes_[1] & 0x0f) == 0x01;
  }

  /** True for multicast with link-local scope, ffx2::/16. */
  [[nodiscard]] constexpr bool is_multicast_link_local() const noexcept {
    return is_multicast() && (bytes_[1] & 0x0f) == 0x02;
  }

  /** True for multicast with site-local scope, ffx5::/16. */
  [[nodiscard]] constexpr bool is_multicast_site_local() const noexcept {
    return is_multicast() && (bytes_[1] & 0x0f) == 0x05;
  }

  /** True for multicast with organisation-local scope, ffx8::/16. */
  [[nodiscard]] constexpr bool is_multicast_org_local() const noexcept {
    return is_multicast() && (bytes_[1] & 0x0f) == 0x08;
  }

  /** True for multicast with global scope, ffxe::/16. */
  [[nodiscard]] constexpr bool is_multicast_global() const noexcept {
    return is_multicast() && (bytes_[1] & 0x0f) == 0x0e;
  }

  /** The RFC 5952 canonical form, with "%zone" if the scope id is not 0. */
  [[nodiscard]] std::string to_string() const;

  /** ::, the address that binds to every interface. */
  [[nodiscard]] static constexpr address_v6 any() noexcept { return address_v6(); }

  /** ::1 */
  [[nodiscard]] static constexpr address_v6 loopback() noexcept {
    return address_v6(bytes_type{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  }

  friend constexpr bool operator==(const address_v6&, const address_v6&) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const address_v6& a, const address_v6& b) noexcept {
    for (std::size_t k = 0; k < 16; ++k) {
      if (a.bytes_[k] != b.bytes_[k]) {
        return a.bytes_[k] <=> b.bytes_[k];
      }
    }
    return a.scope_id_ <=> b.scope_id_;
  }

 private:
  [[nodiscard]] constexpr bool prefix_zero(std::size_t n) const noexcept {
    for (std::size_t k = 0; k < n; ++k) {
      if (bytes_[k] != 0) {
        return false;
      }
    }
    return true;
  }

  bytes_type bytes_{};
  std::uint32_t scope_id_ = 0;
};

/** Parses an IPv6 address in any of the text forms of RFC 4291 section 2.2, with an optional zone.

    Accepted: one to eight groups of one to four hexadecimal digits (either case) separated by ':',
    at most one "::" standing for one or more zero groups, optionally ending in an embedded
    dotted-decimal IPv4 address (as `make_address_v4` reads it) that stands for the last two groups;
    then optionally '%' and a zone: decimal digits are the scope id (at most 4294967295), anything
    else is an interface name, looked up with `if_nametoindex`.
    Rejected with `std::errc::invalid_argument`: empty text, too many or too few groups, two "::",
    a group of five digits, a non-hex character, a single leading or trailing ':', an embedded IPv4
    address not at the end or malformed, an empty zone, a zone holding a NUL character or longer
    than an interface name can be, a numeric zone above 2^32-1, brackets, spaces.
    Rejected with `std::errc::no_such_device`: a well-formed address whose zone names no interface.
    `text` need not be NUL-terminated, and no character outside it is read.

    On error the result is :: and `ec` says why.
*/
[[nodiscard]] address_v6 make_address_v6(std::string_view text, std::error_code& ec) noexcept;

/** As `make_address_v6(text, ec)`, throwing `std::system_error` on error. */
[[nodiscard]] address_v6 make_address_v6(std::string_view text);

/** The address whose bytes, in network order, are `bytes`, in scope `scope_id`. */
[[nodiscard]] constexpr address_v6 make_address_v6(const address_v6::bytes_type& bytes,
                                                   std::uint32_t scope_id = 0) noexcept {
  return address_v6(bytes, scope_id);
}

/** The IPv4-mapped IPv6 address ::ffff:a.b.c.d of `a`. */
[[nodiscard]] constexpr address_v6 make_address_v6(v4_mapped_t, const address_v4& a) noexcept {
  address_v4::bytes_type v4 = a.to_bytes();
  return address_v6(
      address_v6::bytes_type{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, v4[0], v4[1], v4[2], v4[3]});
}

/** The IPv4 address that the IPv4-mapped `a` maps; throws `bad_address_cast` if `a` is not
    IPv4-mapped. */
[[nodiscard]] constexpr address_v4 make_address_v4(v4_mapped_t, const address_v6& a) {
  if (!a.is_v4_mapped()) {
    throw bad_address_cast();
  }
  address_v6::bytes_type b = a.to_bytes();
  return address_v4(address_v4::bytes_type{b[12], b[13], b[14], b[15]});
}

/** Writes `a.to_string()`. */
std::ostream& operator<<(std::ostream& os, const address_v6& a);

}  // namespace senet::ip

/** Hashes an IPv6 address by its bytes and scope id. */
template <>
struct std::hash<senet::ip::address_v6> {
  [[nodiscard]] std::size_t operator()(const senet::ip::address_v6& a) const noexcept {
    senet::ip::address_v6::bytes_type b = a.to_bytes();
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    for (std::size_t k = 0; k < 8; ++k) {
      hi = (hi << 8) | b[k];
      lo = (lo << 8) | b[k + 8];
    }
    std::size_t h = std::hash<std::uint64_t>{}(hi);
    h ^= std::hash<std::uint64_t>{}(lo) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= std::hash<std::uint32_t>{}(a.scope_id()) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
  }
};

#endif  // SENET_IP_ADDRESS_V6_HPP
