// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_IP_BAD_ADDRESS_CAST_HPP
#define SENET_IP_BAD_ADDRESS_CAST_HPP

#include <typeinfo>

namespace senet::ip {

/** Thrown by a conversion between address kinds that does not hold: `address::to_v4()` of an IPv6
    address, `make_address_v4(v4_mapped, a)` of an `a` that is not IPv4-mapped. */
class bad_address_cast : public std::bad_cast {
 public:
  bad_address_cast() noexcept = default;

  [[nodiscard]] const char* what() const noexcept override { return "bad address cast"; }
};

}  // namespace senet::ip

#endif  // SENET_IP_BAD_ADDRESS_CAST_HPP
