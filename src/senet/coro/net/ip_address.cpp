// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/ip_address.hpp>

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace senet::coro::net {

const std::string& to_string(domain_t domain) {
  static const std::string ipv4{"ipv4"};
  static const std::string ipv6{"ipv6"};
  switch (domain) {
    case domain_t::ipv4:
      return ipv4;
    case domain_t::ipv6:
      return ipv6;
  }
  throw std::logic_error("senet::coro::net::to_string: unknown domain_t " +
                         std::to_string(static_cast<int>(domain)));
}

ip_address::ip_address(std::span<const std::uint8_t> binary_address, domain_t domain) : domain_(domain) {
  if (domain != domain_t::ipv4 && domain != domain_t::ipv6) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "senet::coro::net::ip_address: unknown domain_t");
  }
  if (binary_address.size() > data().size()) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "senet::coro::net::ip_address: " + std::to_string(binary_address.size()) +
                                " bytes are too many for an " + net::to_string(domain) + " address");
  }
  std::copy(binary_address.begin(), binary_address.end(), data_.begin());
}

ip_address::ip_address(const senet::ip::address& address) noexcept
    : domain_(address.is_v6() ? domain_t::ipv6 : domain_t::ipv4) {
  if (address.is_v6()) {
    auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), data_.begin());
  } else {
    auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), data_.begin());
  }
}

ip_address ip_address::from_string(const std::string& address, domain_t domain) {
  std::error_code ec;
  if (domain == domain_t::ipv4) {
    senet::ip::address_v4 a = senet::ip::make_address_v4(address, ec);
    if (!ec) {
      return ip_address(senet::ip::address(a));
    }
  } else if (domain == domain_t::ipv6) {
    senet::ip::address_v6 a = senet::ip::make_address_v6(address, ec);
    if (!ec && address.find('%') != std::string::npos) {
      ec = std::make_error_code(std::errc::invalid_argument);  // no zones: there is no scope id here
    }
    if (!ec) {
      return ip_address(senet::ip::address(a));
    }
  } else {
    ec = std::make_error_code(std::errc::invalid_argument);
  }
  throw std::system_error(ec, "senet::coro::net::ip_address::from_string: \"" + address + "\" is not an " +
                                  (domain == domain_t::ipv6 ? std::string("ipv6") : std::string("ipv4")) +
                                  " address");
}

senet::ip::address ip_address::to_address() const noexcept {
  if (domain_ == domain_t::ipv6) {
    senet::ip::address_v6::bytes_type bytes{};
    std::copy(data_.begin(), data_.end(), bytes.begin());
    return senet::ip::address_v6(bytes);
  }
  senet::ip::address_v4::bytes_type bytes{};
  std::copy_n(data_.begin(), bytes.size(), bytes.begin());
  return senet::ip::address_v4(bytes);
}

std::string ip_address::to_string() const {
  return to_address().to_string();
}

}  // namespace senet::coro::net
