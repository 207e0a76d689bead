// SPDX-License-Identifier: BSL-1.0
#include "address_text.hpp"

#include <cstring>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

// if_nametoindex, if_indextoname, IF_NAMESIZE (<netioapi.h>; iphlpapi.lib). After <ws2tcpip.h>:
// mingw-w64's IF_NAMESIZE needs what that includes.
#include <iphlpapi.h>
#else
#include <net/if.h>
#endif

namespace senet::ip::detail {

namespace {

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::error_code invalid() noexcept {
  return std::make_error_code(std::errc::invalid_argument);
}

// Parses the address part of an IPv6 text (no zone) into eight 16-bit groups.
bool parse_v6_groups(std::string_view text, std::array<std::uint16_t, 8>& groups) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  std::size_t count = 0;
  // Where "::" stands, as the number of groups written before it; -1 while there is none.
  std::ptrdiff_t gap = -1;
  if (n == 0) {
    return false;
  }
  if (text[0] == ':') {
    if (n < 2 || text[1] != ':') {
      return false;
    }
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const std::size_t start = i;
    unsigned value = 0;
    while (i < n && hex_value(text[i]) >= 0) {
      if (i - start == 4) {
        return false;
      }
      value = value * 16 + static_cast<unsigned>(hex_value(text[i]));
      ++i;
    }
    if (i < n && text[i] == '.') {
      // An embedded IPv4 address is the last piece and fills the last two groups.
      std::array<unsigned char, 4> v4{};
      if (count > 6 || !parse_v4(text.substr(start), v4)) {
        return false;
      }
      groups[count++] = static_cast<std::uint16_t>((v4[0] << 8) | v4[1]);
      groups[count++] = static_cast<std::uint16_t>((v4[2] << 8) | v4[3]);
      i = n;
      break;
    }
    if (i == start || count == 8) {
      return false;
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    if (i == n) {
      break;
    }
    if (text[i] != ':') {
      return false;
    }
    ++i;
    if (i < n && text[i] == ':') {
      if (gap >= 0) {
        return false;
      }
      gap = static_cast<std::ptrdiff_t>(count);
      ++i;
    } else if (i == n) {
      return false;  // a single trailing colon
    }
  }
  if (gap < 0) {
    return count == 8;
  }
  // "::" stands for at least one zero group.
  if (count > 7) {
    return false;
  }
  const std::size_t tail = count - static_cast<std::size_t>(gap);
  const std::size_t zeros = 8 - count;
  for (std::size_t k = 0; k < tail; ++k) {
    groups[7 - k] = groups[count - 1 - k];
  }
  for (std::size_t k = 0; k < zeros; ++k) {
    groups[static_cast<std::size_t>(gap) + k] = 0;
  }
  return true;
}

std::error_code parse_zone(std::string_view zone, std::uint32_t& scope_id) noexcept {
  if (zone.empty()) {
    return invalid();
  }
  bool numeric = true;
  for (char c : zone) {
    if (!is_digit(c)) {
      numeric = false;
    }
    if (c == '\0') {
      return invalid();
    }
  }
  if (numeric) {
    std::uint64_t value = 0;
    for (char c : zone) {
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
      if (value > 0xffffffffu) {
        return invalid();
      }
    }
    scope_id = static_cast<std::uint32_t>(value);
    return {};
  }
  char name[IF_NAMESIZE];
  if (zone.size() >= sizeof name) {
    return invalid();
  }
  std::memcpy(name, zone.data(), zone.size());
  name[zone.size()] = '\0';
  unsigned index = ::if_nametoindex(name);
  if (index == 0) {
    return std::make_error_code(std::errc::no_such_device);
  }
  scope_id = index;
  return {};
}

}  // namespace

bool parse_v4(std::string_view text, std::array<unsigned char, 4>& bytes) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  for (std::size_t part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= n || text[i] != '.') {
        return false;
      }
      ++i;
    }
    const std::size_t start = i;
    unsigned value = 0;
    while (i < n && is_digit(text[i])) {
      if (i - start == 3) {
        return false;
      }
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    if (i == start || value > 255 || (i - start > 1 && text[start] == '0')) {
      return false;
    }
    bytes[part] = static_cast<unsigned char>(value);
  }
  return i == n;
}

std::error_code parse_v6(std::string_view text, std::array<unsigned char, 16>& bytes,
                         std::uint32_t& scope_id) noexcept {
  // The address is checked before the zone, so that malformed text is reported as such whatever
  // the zone names.
  const std::size_t percent = text.find('%');
  std::array<std::uint16_t, 8> groups{};
  if (!parse_v6_groups(text.substr(0, percent), groups)) {
    return invalid();
  }
  std::uint32_t scope = 0;
  if (percent != std::string_view::npos) {
    if (std::error_code ec = parse_zone(text.substr(percent + 1), scope)) {
      return ec;
    }
  }
  for (std::size_t k = 0; k < 8; ++k) {
    bytes[2 * k] = static_cast<unsigned char>(groups[k] >> 8);
    bytes[2 * k + 1] = static_cast<unsigned char>(groups[k] & 0xff);
  }
  scope_id = scope;
  return {};
}

void append_v4(std::string& out, const unsigned char* bytes) {
  for (std::size_t k = 0; k < 4; ++k) {
    if (k > 0) {
      out += '.';
    }
    unsigned v = bytes[k];
    if (v >= 100) {
      out += static_cast<char>('0' + v / 100);
    }
    if (v >= 10) {
      out += static_cast<char>('0' + v / 10 % 10);
    }
    out += static_cast<char>('0' + v % 10);
  }
}

void append_v6(std::string& out, const std::array<unsigned char, 16>& bytes) {
  static constexpr std::array<unsigned char, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes.data(), mapped_prefix.data(), mapped_prefix.size()) == 0) {
    // RFC 5952 section 5: an IPv4-mapped address ends in dotted decimal.
    out += "::ffff:";
    append_v4(out, bytes.data() + 12);
    return;
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t k = 0; k < 8; ++k) {
    groups[k] = (unsigned{bytes[2 * k]} << 8) | bytes[2 * k + 1];
  }
  // RFC 5952 section 4.2: "::" replaces the longest run of at least two zero groups, the first one
  // when two runs are equally long.
  std::size_t best_start = 8;
  std::size_t best_length = 1;
  for (std::size_t k = 0; k < 8;) {
    if (groups[k] != 0) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < 8 && groups[end] == 0) {
      ++end;
    }
    if (end - k > best_length) {
      best_start = k;
      best_length = end - k;
    }
    k = end;
  }
  static constexpr char digits[] = "0123456789abcdef";
  bool need_colon = false;
  for (std::size_t k = 0; k < 8;) {
    if (k == best_start) {
      out += "::";
      k += best_length;
      need_colon = false;
      continue;
    }
    if (need_colon) {
      out += ':';
    }
    // RFC 5952 sections 4.1 and 4.3: no leading zeros, lower case.
    unsigned g = groups[k];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = (g >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        out += digits[nibble];
        started = true;
      }
    }
    need_colon = true;
    ++k;
  }
}

void append_scope(std::string& out, const std::array<unsigned char, 16>& bytes, std::uint32_t scope_id) {
  if (scope_id == 0) {
    return;
  }
  out += '%';
  const bool link_local = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  const bool multicast_link_local = bytes[0] == 0xff && (bytes[1] & 0x0f) == 0x02;
  if (link_local || multicast_link_local) {
    char name[IF_NAMESIZE];
    if (::if_indextoname(scope_id, name) != nullptr) {
      out += name;
      return;
    }
  }
  out += std::to_string(scope_id);
}

}  // namespace senet::ip::detail
