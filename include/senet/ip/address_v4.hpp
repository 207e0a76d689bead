// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_ADDRESS_V4_HPP
#define SENET_IP_ADDRESS_V4_HPP

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

/** An IPv4 address: four bytes in network order.

    Text form: dotted decimal, four decimal numbers 0-255 ("192.0.2.1"), as `to_string()` writes
    and `make_address_v4()` reads. Ordering is numeric (byte-wise in network order). A default
    constructed address is the unspecified address 0.0.0.0.
*/
class address_v4 {
 public:
  /** The address as an unsigned integer in host byte order. */
  using uint_type = std::uint32_t;
  /** The address as bytes in network order (most significant first). */
  using bytes_type = std::array<unsigned char, 4>;

  /** 0.0.0.0 */
  constexpr address_v4() noexcept = default;

  /** The address whose bytes, in network order, are `bytes`. */
  constexpr explicit address_v4(const bytes_type& bytes) noexcept : bytes_(bytes) {}

  /** The address whose value in host byte order is `value` (0x7f000001 is 127.0.0.1). */
  constexpr explicit address_v4(uint_type value) noexcept
      : bytes_{static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
               static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)} {}

  /** The bytes in network order. */
  [[nodiscard]] constexpr bytes_type to_bytes() const noexcept { return bytes_; }

  /** The value in host byte order. */
  [[nodiscard]] constexpr uint_type to_uint() const noexcept {
    return (uint_type{bytes_[0]} << 24) | (uint_type{bytes_[1]} << 16) | (uint_type{bytes_[2]} << 8) |
           uint_type{bytes_[3]};
  }

  /** True for 127.0.0.0/8. */
  [[nodiscard]] constexpr bool is_loopback() const noexcept { return bytes_[0] == 127; }

  /** True for 0.0.0.0. */
  [[nodiscard]] constexpr bool is_unspecified() const noexcept { return to_uint() == 0; }

  /** True for 224.0.0.0/4. */
  [[nodiscard]] constexpr bool is_multicast() const noexcept { return (bytes_[0] & 0xf0) == 0xe0; }

  /** The dotted-decimal form, "192.0.2.1". */
  [[nodiscard]] std::string to_string() const;

  /** 0.0.0.0, the address that binds to every interface. */
  [[nodiscard]] static constexpr address_v4 any() noexcept { return address_v4(); }

  /** 127.0.0.1 */
  [[nodiscard]] static constexpr address_v4 loopback() noexcept { return address_v4(uint_type{0x7f000001}); }

  /** 255.255.255.255 */
  [[nodiscard]] static constexpr address_v4 broadcast() noexcept { return address_v4(uint_type{0xffffffff}); }

  friend constexpr bool operator==(const address_v4&, const address_v4&) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(const address_v4& a, const address_v4& b) noexcept {
    return a.to_uint() <=> b.to_uint();
  }

 private:
  bytes_type bytes_{};
};

/** Parses the dotted-decimal form of an IPv4 address.

    Exactly four decimal numbers from 0 to 255 separated by dots; nothing before, after or between
    them (no sign, no space, no "%scope"). A number with a leading zero ("01", "00") is rejected:
    the classic `inet_aton` reads it as octal, so accepting it would let one text mean two addresses.
    The shorthand forms `inet_aton` accepts ("127.1", "0x7f.1") are rejected too.
    `text` need not be NUL-terminated, and no character outside it is read.

    On malformed text: `ec` is `std::errc::invalid_argument` and the result is 0.0.0.0.
*/
[[nodiscard]] address_v4 make_address_v4(std::string_view text, std::error_code& ec) noexcept;

/** As `make_address_v4(text, ec)`, throwing `std::system_error` on malformed text. */
[[nodiscard]] address_v4 make_address_v4(std::string_view text);

/** The address whose bytes, in network order, are `bytes`. */
[[nodiscard]] constexpr address_v4 make_address_v4(const address_v4::bytes_type& bytes) noexcept {
  return address_v4(bytes);
}

/** The address whose value in host byte order is `value`. */
[[nodiscard]] constexpr address_v4 make_address_v4(address_v4::uint_type value) noexcept {
  return address_v4(value);
}

/** Writes `a.to_string()`. */
std::ostream& operator<<(std::ostream& os, const address_v4& a);

}  // namespace senet::ip

/** Hashes an IPv4 address by its value. */
template <>
struct std::hash<senet::ip::address_v4> {
  [[nodiscard]] std::size_t operator()(const senet::ip::address_v4& a) const noexcept {
    return std::hash<std::uint32_t>{}(a.to_uint());
  }
};

#endif  // SENET_IP_ADDRESS_V4_HPP
