// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string_view>
#include <unordered_set>

namespace {

using senet::ip::address;
using senet::ip::address_v4;
using senet::ip::address_v6;
using senet::ip::make_address;

static_assert(address().is_v4() && address().is_unspecified());
static_assert(address(address_v6::loopback()).is_v6());
static_assert(address(address_v4::loopback()) < address(address_v6::any()));

TEST(address, holds_either_version) {
  address a4 = address_v4::loopback();
  address a6 = address_v6::loopback();
  EXPECT_TRUE(a4.is_v4());
  EXPECT_FALSE(a4.is_v6());
  EXPECT_TRUE(a6.is_v6());
  EXPECT_EQ(address_v4::loopback(), a4.to_v4());
  EXPECT_EQ(address_v6::loopback(), a6.to_v6());
  EXPECT_THROW((void)a4.to_v6(), senet::ip::bad_address_cast);
  EXPECT_THROW((void)a6.to_v4(), senet::ip::bad_address_cast);
  EXPECT_TRUE(a4.is_loopback());
  EXPECT_TRUE(a6.is_loopback());
  EXPECT_TRUE(address(address_v4::any()).is_unspecified());
  EXPECT_TRUE(address(address_v6::any()).is_unspecified());
  EXPECT_TRUE(make_address("239.1.1.1").is_multicast());
  EXPECT_TRUE(make_address("ff05::2").is_multicast());
  EXPECT_FALSE(make_address("10.1.1.1").is_multicast());
}

TEST(address, parses_either_version) {
  EXPECT_EQ(address(address_v4(0x0a000001u)), make_address("10.0.0.1"));
  EXPECT_EQ(address(address_v6::loopback()), make_address("::1"));
  EXPECT_EQ("::ffff:10.0.0.1", make_address("::ffff:10.0.0.1").to_string());
  EXPECT_TRUE(make_address("::ffff:10.0.0.1").is_v6()) << "a mapped address stays IPv6";
  EXPECT_EQ(7u, make_address("fe80::1%7").to_v6().scope_id());
  EXPECT_EQ("10.0.0.1", make_address("10.0.0.1").to_string());
  EXPECT_EQ("2001:db8::1", make_address("2001:DB8:0::1").to_string());
}

TEST(address, rejects_malformed_text) {
  using namespace std::string_view_literals;
  for (std::string_view text : {""sv, "1.2.3"sv, "1.2.3.4%1"sv, "::1::"sv, "localhost"sv, "1.2.3.4\0"sv,
                                ":"sv, "[::1]"sv, "1.2.3.4:80"sv, "1:2:3:4:5:6:7:8:9"sv}) {
    std::error_code ec;
    address a = make_address(text, ec);
    EXPECT_EQ(ec, std::errc::invalid_argument) << '"' << text << '"';
    EXPECT_EQ(address(), a);
    EXPECT_THROW((void)make_address(text), std::system_error);
  }
  std::error_code ec;
  (void)make_address("fe80::1%senet-no-such", ec);
  EXPECT_EQ(ec, std::errc::no_such_device);
}

TEST(address, comparisons) {
  EXPECT_LT(make_address("255.255.255.255"), make_address("::"));
  EXPECT_LT(make_address("1.1.1.1"), make_address("1.1.1.2"));
  EXPECT_LT(make_address("::1"), make_address("::2"));
  EXPECT_NE(make_address("1.2.3.4"), make_address("::ffff:1.2.3.4"));
  EXPECT_NE(make_address("0.0.0.0"), make_address("::"));
  EXPECT_EQ(make_address("::1"), make_address("0:0::1"));
}

TEST(address, hash_and_stream) {
  std::unordered_set<address> set{make_address("0.0.0.0"), make_address("::"), make_address("::"),
                                  make_address("1.2.3.4"), make_address("::ffff:1.2.3.4")};
  EXPECT_EQ(4u, set.size());
  std::ostringstream os;
  os << make_address("1.2.3.4") << ' ' << make_address("::FFFF:1.2.3.4");
  EXPECT_EQ("1.2.3.4 ::ffff:1.2.3.4", os.str());
}

TEST(address, round_trips) {
  for (const char* text : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "::", "::1", "1::", "2001:db8::1:2%3",
                           "2001:db8:0:1:1:1:1:1", "::ffff:0.0.0.0", "1:2:3:4:5:6:7:8"}) {
    address a = make_address(text);
    EXPECT_EQ(text, a.to_string());
    EXPECT_EQ(a, make_address(a.to_string()));
  }
}

}  // namespace
