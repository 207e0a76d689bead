// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/resolver.hpp>

#include <senet/error.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>

#include <gtest/gtest.h>

#include <system_error>

namespace {

using senet::ip::resolve_flags;
using senet::ip::tcp;
using senet::ip::udp;

TEST(resolver, numeric_v4) {
  std::error_code ec;
  auto eps = senet::ip::resolve<tcp>("127.0.0.1", "8080", resolve_flags::none, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(eps.size(), 1U);
  EXPECT_EQ(eps[0], tcp::endpoint(senet::ip::address_v4::loopback(), 8080));
}

TEST(resolver, numeric_v6) {
  auto eps = senet::ip::resolve<udp>("::1", "53");
  ASSERT_EQ(eps.size(), 1U);
  EXPECT_EQ(eps[0], udp::endpoint(senet::ip::address_v6::loopback(), 53));
}

TEST(resolver, localhost_gives_loopback_addresses) {
  auto eps = senet::ip::resolve<tcp>("localhost", "7");
  ASSERT_FALSE(eps.empty());
  for (const auto& ep : eps) {
    EXPECT_TRUE(ep.address().is_loopback()) << ep.to_string();
    EXPECT_EQ(ep.port(), 7);
  }
}

TEST(resolver, protocol_restricts_family) {
  std::error_code ec;
  auto eps = senet::ip::resolve(tcp::v4(), "localhost", "80", resolve_flags::none, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_FALSE(eps.empty());
  for (const auto& ep : eps) {
    EXPECT_EQ(ep.protocol(), tcp::v4());
  }
}

TEST(resolver, passive_empty_host_is_wildcard) {
  auto eps = senet::ip::resolve<tcp>("", "9000", resolve_flags::passive | resolve_flags::numeric_service);
  ASSERT_FALSE(eps.empty());
  for (const auto& ep : eps) {
    EXPECT_TRUE(ep.address().is_unspecified()) << ep.to_string();
    EXPECT_EQ(ep.port(), 9000);
  }
}

TEST(resolver, non_numeric_host_with_numeric_host_flag_fails) {
  std::error_code ec;
  auto eps = senet::ip::resolve<tcp>("localhost", "80", resolve_flags::numeric_host, ec);
  EXPECT_EQ(ec, senet::error::host_not_found);
  EXPECT_TRUE(eps.empty());
  EXPECT_THROW((void)senet::ip::resolve<tcp>("not an address", "80", resolve_flags::numeric_host),
               std::system_error);
}

TEST(resolver, unknown_service_fails) {
  std::error_code ec;
  auto eps = senet::ip::resolve<tcp>("127.0.0.1", "no-such-service-senet", resolve_flags::numeric_host, ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(eps.empty());
}

TEST(resolver, flags_combine) {
  auto f = resolve_flags::passive | resolve_flags::numeric_host;
  EXPECT_EQ(f & resolve_flags::passive, resolve_flags::passive);
  EXPECT_EQ(f & resolve_flags::v4_mapped, resolve_flags::none);
  f |= resolve_flags::v4_mapped;
  EXPECT_EQ(f & resolve_flags::v4_mapped, resolve_flags::v4_mapped);
}

}  // namespace
