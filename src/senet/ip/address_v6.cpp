// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address_v6.hpp>

#include "address_text.hpp"

namespace senet::ip {

std::string address_v6::to_string() const {
  std::string out;
  out.reserve(46);
  detail::append_v6(out, bytes_);
  detail::append_scope(out, bytes_, scope_id_);
  return out;
}

address_v6 make_address_v6(std::string_view text, std::error_code& ec) noexcept {
  address_v6::bytes_type bytes{};
  std::uint32_t scope_id = 0;
  ec = detail::parse_v6(text, bytes, scope_id);
  if (ec) {
    return address_v6();
  }
  return address_v6(bytes, scope_id);
}

address_v6 make_address_v6(std::string_view text) {
  std::error_code ec;
  address_v6 a = make_address_v6(text, ec);
  if (ec) {
    throw std::system_error(ec, "senet::ip::make_address_v6");
  }
  return a;
}

std::ostream& operator<<(std::ostream& os, const address_v6& a) {
  return os << a.to_string();
}

}  // namespace senet::ip
