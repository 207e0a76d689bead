// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address_v4.hpp>

#include "address_text.hpp"

namespace senet::ip {

std::string address_v4::to_string() const {
  std::string out;
  out.reserve(15);
  detail::append_v4(out, bytes_.data());
  return out;
}

address_v4 make_address_v4(std::string_view text, std::error_code& ec) noexcept {
  address_v4::bytes_type bytes{};
  if (!detail::parse_v4(text, bytes)) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return address_v4();
  }
  ec.clear();
  return address_v4(bytes);
}

address_v4 make_address_v4(std::string_view text) {
  std::error_code ec;
  address_v4 a = make_address_v4(text, ec);
  if (ec) {
    throw std::system_error(ec, "senet::ip::make_address_v4");
  }
  return a;
}

std::ostream& operator<<(std::ostream& os, const address_v4& a) {
  return os << a.to_string();
}

}  // namespace senet::ip
