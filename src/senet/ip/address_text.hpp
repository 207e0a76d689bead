// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_SRC_IP_ADDRESS_TEXT_HPP
#define SENET_SRC_IP_ADDRESS_TEXT_HPP

// Private to src/senet/ip: the text parsers and formatters of IP addresses. Every parser works on
// a std::string_view that need not be NUL-terminated and reads no character outside it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace senet::ip::detail {

/** Parses exactly "d.d.d.d" (each 0-255, no leading zeros) into network-order bytes. */
bool parse_v4(std::string_view text, std::array<unsigned char, 4>& bytes) noexcept;

/** Parses an IPv6 address with an optional "%zone" suffix. A numeric zone is the scope id; any
    other zone is an interface name looked up with if_nametoindex. Errors: invalid_argument for
    malformed text, no_such_device for an unknown interface name. */
std::error_code parse_v6(std::string_view text, std::array<unsigned char, 16>& bytes,
                         std::uint32_t& scope_id) noexcept;

/** Appends the dotted-decimal form of `bytes`. */
void append_v4(std::string& out, const unsigned char* bytes);

/** Appends the RFC 5952 form of `bytes` (without the scope). */
void append_v6(std::string& out, const std::array<unsigned char, 16>& bytes);

/** Appends "%<zone>" for a non-zero scope id: the interface name for a link-local unicast or
    multicast address when the interface exists, the number otherwise. */
void append_scope(std::string& out, const std::array<unsigned char, 16>& bytes, std::uint32_t scope_id);

}  // namespace senet::ip::detail

#endif  // SENET_SRC_IP_ADDRESS_TEXT_HPP
