// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address.hpp>

namespace senet::ip {

address make_address(std::string_view text, std::error_code& ec) noexcept {
  if (text.find(':') != std::string_view::npos) {
    address_v6 a = make_address_v6(text, ec);
    return ec ? address() : address(a);
  }
  return make_address_v4(text, ec);
}

address make_address(std::string_view text) {
  std::error_code ec;
  address a = make_address(text, ec);
  if (ec) {
    throw std::system_error(ec, "senet::ip::make_address");
  }
  return a;
}

std::ostream& operator<<(std::ostream& os, const address& a) {
  return os << a.to_string();
}

}  // namespace senet::ip
