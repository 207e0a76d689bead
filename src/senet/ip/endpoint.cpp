// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/detail/endpoint.hpp>

namespace senet::ip::detail {

std::string endpoint::to_string() const {
  std::string out;
  if (is_v6()) {
    out += '[';
    out += address().to_string();
    out += ']';
  } else {
    out += address().to_string();
  }
  out += ':';
  out += std::to_string(port());
  return out;
}

}  // namespace senet::ip::detail
