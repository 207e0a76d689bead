// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address_v4.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <ws2tcpip.h>  // inet_pton
#else
#include <arpa/inet.h>
#endif

#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using senet::ip::address_v4;
using senet::ip::make_address_v4;

static_assert(address_v4().is_unspecified());
static_assert(address_v4::loopback().to_uint() == 0x7f000001);
static_assert(address_v4::broadcast().to_uint() == 0xffffffff);
static_assert(address_v4::any() < address_v4::loopback());
static_assert(address_v4(address_v4::bytes_type{1, 2, 3, 4}).to_uint() == 0x01020304);

TEST(address_v4, construction_and_bytes) {
  address_v4 a(address_v4::bytes_type{192, 0, 2, 1});
  EXPECT_EQ(0xc0000201u, a.to_uint());
  EXPECT_EQ((address_v4::bytes_type{192, 0, 2, 1}), a.to_bytes());
  EXPECT_EQ(a, address_v4(0xc0000201u));
  EXPECT_EQ(a, make_address_v4(0xc0000201u));
  EXPECT_EQ(a, make_address_v4(address_v4::bytes_type{192, 0, 2, 1}));
  EXPECT_EQ("192.0.2.1", a.to_string());
}

TEST(address_v4, classification) {
  EXPECT_TRUE(address_v4::loopback().is_loopback());
  EXPECT_TRUE(make_address_v4("127.255.0.9").is_loopback());
  EXPECT_FALSE(make_address_v4("128.0.0.1").is_loopback());
  EXPECT_TRUE(address_v4::any().is_unspecified());
  EXPECT_FALSE(address_v4::loopback().is_unspecified());
  EXPECT_TRUE(make_address_v4("224.0.0.1").is_multicast());
  EXPECT_TRUE(make_address_v4("239.255.255.255").is_multicast());
  EXPECT_FALSE(make_address_v4("223.255.255.255").is_multicast());
  EXPECT_FALSE(make_address_v4("240.0.0.0").is_multicast());
  EXPECT_EQ("255.255.255.255", address_v4::broadcast().to_string());
  EXPECT_EQ("0.0.0.0", address_v4::any().to_string());
  EXPECT_EQ("127.0.0.1", address_v4::loopback().to_string());
}

TEST(address_v4, ordering_is_numeric) {
  EXPECT_LT(make_address_v4("1.2.3.4"), make_address_v4("1.2.3.5"));
  EXPECT_LT(make_address_v4("9.255.255.255"), make_address_v4("10.0.0.0"));
  EXPECT_GT(make_address_v4("200.0.0.0"), make_address_v4("100.255.255.255"));
  EXPECT_EQ(make_address_v4("10.0.0.1") <=> make_address_v4("10.0.0.1"), std::strong_ordering::equal);
  EXPECT_NE(make_address_v4("10.0.0.1"), make_address_v4("10.0.0.2"));
}

TEST(address_v4, hash) {
  std::unordered_set<address_v4> set{make_address_v4("1.2.3.4"), make_address_v4("1.2.3.4"),
                                     make_address_v4("4.3.2.1")};
  EXPECT_EQ(2u, set.size());
  EXPECT_EQ(std::hash<address_v4>{}(make_address_v4("8.8.8.8")),
            std::hash<address_v4>{}(address_v4(0x08080808u)));
}

TEST(address_v4, stream) {
  std::ostringstream os;
  os << make_address_v4("10.20.30.40");
  EXPECT_EQ("10.20.30.40", os.str());
}

TEST(address_v4, parses_valid_forms) {
  struct {
    const char* text;
    std::uint32_t value;
  } cases[] = {
      {"0.0.0.0", 0},
      {"255.255.255.255", 0xffffffff},
      {"1.2.3.4", 0x01020304},
      {"10.0.0.1", 0x0a000001},
      {"192.168.100.200", 0xc0a864c8},
      {"199.99.9.0", 0xc7630900},
      {"100.10.1.0", 0x640a0100},
  };
  for (auto& c : cases) {
    std::error_code ec = std::make_error_code(std::errc::io_error);
    address_v4 a = make_address_v4(c.text, ec);
    EXPECT_FALSE(ec) << c.text;
    EXPECT_EQ(c.value, a.to_uint()) << c.text;
    EXPECT_EQ(c.text, a.to_string()) << "round trip";
  }
}

TEST(address_v4, rejects_malformed_text) {
  const std::string_view bad[] = {
      "",
      ".",
      "...",
      "1",
      "1.2",
      "1.2.3",
      "127.1",       // inet_aton shorthand
      "1.2.3.4.",    // trailing dot
      ".1.2.3.4",    // leading dot
      "1.2.3.4.5",   // too many parts
      "1..3.4",      // empty part
      "256.0.0.0",   // overflow
      "0.0.0.256",   // overflow
      "1.2.3.999",   // overflow
      "1.2.3.1000",  // four digits
      "1.2.3.0255",  // four digits with leading zero
      "01.2.3.4",    // leading zero (octal to inet_aton)
      "1.2.3.04",    // leading zero
      "00.0.0.0",    // leading zero
      "0x7f.0.0.1",  // hex
      "1.2.3.4 ",    // trailing space
      " 1.2.3.4",    // leading space
      "1.2.3.4\n",   // trailing newline
      "1.2.3.4a",    // trailing garbage
      "1.2.3.-4",    // sign
      "+1.2.3.4",    // sign
      "1.2.3.4%1",   // zone on IPv4
      "1.2.3.4:80",  // port
      "::1",         // IPv6
      "1,2,3,4",     // wrong separator
      "a.b.c.d",     // letters
      "４.2.3.4",    // non-ASCII digit
      "99999999999.0.0.0",
  };
  for (std::string_view text : bad) {
    std::error_code ec;
    address_v4 a = make_address_v4(text, ec);
    EXPECT_EQ(ec, std::errc::invalid_argument) << '"' << text << '"';
    EXPECT_TRUE(a.is_unspecified()) << '"' << text << '"';
    EXPECT_THROW((void)make_address_v4(text), std::system_error) << '"' << text << '"';
  }
}

TEST(address_v4, embedded_nul_is_malformed) {
  using namespace std::string_view_literals;
  std::error_code ec;
  (void)make_address_v4("1.2.3.4\0"sv, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  (void)make_address_v4("1.2\0.3.4"sv, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(address_v4, reads_only_inside_the_view) {
  // The view is a prefix of a longer buffer: what follows it must not be read or matter.
  const char text[] = "10.1.2.34567";
  std::error_code ec;
  address_v4 a = make_address_v4(std::string_view(text, 9), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ("10.1.2.34", a.to_string());
  (void)make_address_v4(std::string_view(text, 6), ec);  // "10.1.2"
  EXPECT_EQ(ec, std::errc::invalid_argument);
  // A view ending right before a digit that would make the octet overflow.
  const char overflow[] = "1.2.3.25599";
  EXPECT_EQ("1.2.3.255", make_address_v4(std::string_view(overflow, 9)).to_string());
}

TEST(address_v4, agrees_with_inet_pton_on_every_octet) {
  for (unsigned v = 0; v < 256; ++v) {
    std::string text = "1." + std::to_string(v) + ".3." + std::to_string(255 - v);
    in_addr expected{};
    ASSERT_EQ(1, ::inet_pton(AF_INET, text.c_str(), &expected)) << text;
    address_v4 a = make_address_v4(text);
    EXPECT_EQ(0, std::memcmp(a.to_bytes().data(), &expected, 4)) << text;
    EXPECT_EQ(text, a.to_string());
  }
}

TEST(address_v4, error_code_cleared_on_success) {
  std::error_code ec = std::make_error_code(std::errc::invalid_argument);
  (void)make_address_v4("1.1.1.1", ec);
  EXPECT_FALSE(ec);
}

}  // namespace
