// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/address_v6.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>  // inet_pton, inet_ntop

#include <iphlpapi.h>  // IF_NAMESIZE (after <ws2tcpip.h>, as in src/senet/ip/address_text.cpp)
#else
#include <arpa/inet.h>
#include <net/if.h>
#endif

#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using senet::ip::address_v4;
using senet::ip::address_v6;
using senet::ip::make_address_v4;
using senet::ip::make_address_v6;

using bytes = address_v6::bytes_type;

static_assert(address_v6().is_unspecified());
static_assert(address_v6::loopback().is_loopback());
static_assert(!address_v6::any().is_loopback());
static_assert(address_v6::any() < address_v6::loopback());

address_v6 parse(std::string_view text) {
  std::error_code ec;
  address_v6 a = make_address_v6(text, ec);
  EXPECT_FALSE(ec) << '"' << text << "\": " << ec.message();
  return a;
}

bytes pton(const char* text) {
  bytes b{};
  EXPECT_EQ(1, ::inet_pton(AF_INET6, text, b.data())) << text;
  return b;
}

TEST(address_v6, construction_and_accessors) {
  bytes b{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  address_v6 a(b, 7);
  EXPECT_EQ(b, a.to_bytes());
  EXPECT_EQ(7u, a.scope_id());
  a.scope_id(0);
  EXPECT_EQ(0u, a.scope_id());
  EXPECT_EQ(a, make_address_v6(b));
  EXPECT_EQ("2001:db8::1", a.to_string());
}

TEST(address_v6, classification) {
  EXPECT_TRUE(parse("::").is_unspecified());
  EXPECT_TRUE(parse("::1").is_loopback());
  EXPECT_FALSE(parse("::2").is_loopback());
  EXPECT_FALSE(parse("1::1").is_loopback());
  EXPECT_TRUE(parse("ff02::1").is_multicast());
  EXPECT_TRUE(parse("ff02::1").is_multicast_link_local());
  EXPECT_TRUE(parse("ff01::1").is_multicast_node_local());
  EXPECT_TRUE(parse("ff05::1").is_multicast_site_local());
  EXPECT_TRUE(parse("ff08::1").is_multicast_org_local());
  EXPECT_TRUE(parse("ff0e::1").is_multicast_global());
  EXPECT_FALSE(parse("fe80::1").is_multicast());
  EXPECT_TRUE(parse("fe80::1").is_link_local());
  EXPECT_TRUE(parse("febf::1").is_link_local());
  EXPECT_FALSE(parse("fec0::1").is_link_local());
  EXPECT_TRUE(parse("fec0::1").is_site_local());
  EXPECT_TRUE(parse("::ffff:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(parse("::fffe:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(parse("1::ffff:1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(parse("::1.2.3.4").is_v4_mapped());
}

TEST(address_v6, v4_mapped_conversions) {
  address_v4 a4 = make_address_v4("192.0.2.33");
  address_v6 a6 = make_address_v6(senet::ip::v4_mapped, a4);
  EXPECT_TRUE(a6.is_v4_mapped());
  EXPECT_EQ("::ffff:192.0.2.33", a6.to_string());
  EXPECT_EQ(a4, make_address_v4(senet::ip::v4_mapped, a6));
  EXPECT_THROW((void)make_address_v4(senet::ip::v4_mapped, address_v6::loopback()),
               senet::ip::bad_address_cast);
  static_assert(
      make_address_v4(senet::ip::v4_mapped, make_address_v6(senet::ip::v4_mapped, address_v4::loopback())) ==
      address_v4::loopback());
}

// RFC 5952 section 4 and its examples, and the corner cases of the "::" choice.
TEST(address_v6, formats_canonically_rfc5952) {
  struct {
    const char* input;
    const char* canonical;
  } cases[] = {
      // 4.1: no leading zeros.
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:db8::0:1", "2001:db8::1"},
      {"2001:db8:0:0:0::1", "2001:db8::1"},
      {"2001:0db8:0:0::1", "2001:db8::1"},
      {"0001:0002:0003:0004:0005:0006:0007:0008", "1:2:3:4:5:6:7:8"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:01", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      // 4.2.1: shorten as much as possible.
      {"2001:db8:0:0:0::1", "2001:db8::1"},
      // 4.2.2: "::" never for a single zero group.
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
      // 4.2.3: the longest run; the first of equal runs.
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
      {"0:0:1:0:0:0:1:0", "0:0:1::1:0"},
      {"0:0:0:1:0:0:0:1", "::1:0:0:0:1"},
      // 4.3: lower case.
      {"2001:DB8::ABCD:EF", "2001:db8::abcd:ef"},
      {"FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      // Runs at either end, and everything zero.
      {"0:0:0:0:0:0:0:0", "::"},
      {"::", "::"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"1::", "1::"},
      {"0:0:1:2:3:4:5:6", "::1:2:3:4:5:6"},
      {"1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"},
      {"0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
      {"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
      {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
      {"fe80::", "fe80::"},
      {"ff02::1:ff00:1", "ff02::1:ff00:1"},
      // Section 5: IPv4-mapped addresses end in dotted decimal.
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"::FFFF:c000:0201", "::ffff:192.0.2.1"},
      {"0:0:0:0:0:ffff:0.0.0.0", "::ffff:0.0.0.0"},
      {"::ffff:255.255.255.255", "::ffff:255.255.255.255"},
      // Other embedded IPv4 forms are written in hexadecimal.
      {"::1.2.3.4", "::102:304"},
      {"::fffe:1.2.3.4", "::fffe:102:304"},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
  };
  for (auto& c : cases) {
    address_v6 a = parse(c.input);
    EXPECT_EQ(c.canonical, a.to_string()) << c.input;
    EXPECT_EQ(pton(c.input), a.to_bytes()) << c.input;
    // The canonical form reads back as the same address, and is its own canonical form.
    EXPECT_EQ(a, parse(a.to_string())) << c.input;
    EXPECT_EQ(c.canonical, parse(c.canonical).to_string()) << c.input;
  }
}

TEST(address_v6, rejects_malformed_text) {
  using namespace std::string_view_literals;
  const std::string_view bad[] = {
      ""sv,
      ":"sv,
      ":::"sv,
      "::::"sv,
      "1"sv,
      "1:2"sv,
      "1:2:3:4:5:6:7"sv,          // too few groups
      "1:2:3:4:5:6:7:8:9"sv,      // too many groups
      "1:2:3:4:5:6:7:8::"sv,      // "::" with eight groups
      "::1:2:3:4:5:6:7:8"sv,      // "::" with eight groups
      "1:2:3:4::5:6:7:8"sv,       // "::" with eight groups
      "1::2::3"sv,                // two "::"
      "::1::"sv,                  // two "::"
      "1:::2"sv,                  // three colons
      ":1:2:3:4:5:6:7"sv,         // single leading colon
      ":1::"sv,                   // single leading colon
      "1:2:3:4:5:6:7:"sv,         // single trailing colon
      "1::2:"sv,                  // single trailing colon
      "12345::"sv,                // five hex digits
      "::00000"sv,                // five hex digits
      "1:2:3:4:5:6:7:8g"sv,       // bad hex
      "g::1"sv,                   // bad hex
      "::x"sv,                    // bad hex
      "1:2:3:4:5:6:7:-8"sv,       // sign
      "[::1]"sv,                  // brackets
      "::1 "sv,                   // trailing space
      " ::1"sv,                   // leading space
      "::1\n"sv,                  // newline
      "::1\0"sv,                  // embedded NUL
      "::\0:1"sv,                 // embedded NUL
      "::1]"sv,                   // trailing garbage
      "::1/128"sv,                // prefix length
      "::1:80:"sv,                // trailing colon
      "1.2.3.4"sv,                // IPv4
      "::1.2.3"sv,                // short IPv4
      "::1.2.3.4.5"sv,            // long IPv4
      "::1.2.3.256"sv,            // IPv4 overflow
      "::01.2.3.4"sv,             // IPv4 leading zero
      "::1.2.3.4:5"sv,            // IPv4 not at the end
      "1.2.3.4::"sv,              // IPv4 not at the end
      "::1.2.3.4::"sv,            // IPv4 not at the end
      "1:2:3:4:5:6:7:1.2.3.4"sv,  // IPv4 makes nine groups
      "1:2:3:4:5:6::1.2.3.4"sv,   // IPv4 and "::" make too many groups
      "::ffff:1.2.3.4.5"sv,
      "::ffff:a.2.3.4"sv,
      "::ffff:1.2.3."sv,
      "::ffff:1..3.4"sv,
      "::%"sv,                 // empty zone
      "fe80::1%"sv,            // empty zone
      "fe80::1%4294967296"sv,  // zone above 2^32-1
      "fe80::1%99999999999999999999"sv,
      "fe80::1%lo\0"sv,  // NUL in a zone name
      "fe80::1%\0lo"sv,  // NUL in a zone name
#ifndef _WIN32           // Linux's IF_NAMESIZE is 16; Windows' is 256 (NDIS_IF_MAX_STRING_SIZE): below
      "fe80::1%0123456789abcdefghij"sv,  // longer than IF_NAMESIZE
#endif
      "%1"sv,      // zone without address
      "1%1"sv,     // malformed address with a zone
      "::g%1"sv,   // malformed address with a zone
      "::1%%1"sv,  // unknown interface "%1" -- not numeric
  };
  for (std::string_view text : bad) {
    std::error_code ec;
    address_v6 a = make_address_v6(text, ec);
    EXPECT_TRUE(ec) << '"' << text << '"';
    if (text != "::1%%1"sv) {
      EXPECT_EQ(ec, std::errc::invalid_argument) << '"' << text << "\" " << ec.message();
    }
    EXPECT_EQ(address_v6(), a) << '"' << text << '"';
    EXPECT_THROW((void)make_address_v6(text), std::system_error) << '"' << text << '"';
  }
#ifdef _WIN32
  // A zone name longer than Windows' IF_NAMESIZE (the Linux list above has one longer than Linux's).
  std::error_code ec;
  (void)make_address_v6("fe80::1%" + std::string(IF_NAMESIZE, 'a'), ec);
  EXPECT_EQ(ec, std::errc::invalid_argument) << ec.message();
#endif
}

TEST(address_v6, numeric_scope) {
  address_v6 a = parse("fe80::1%42");
  EXPECT_EQ(42u, a.scope_id());
  EXPECT_EQ(pton("fe80::1"), a.to_bytes());
  EXPECT_EQ(4294967295u, parse("2001:db8::1%4294967295").scope_id());
  EXPECT_EQ(0u, parse("fe80::1%0").scope_id());
  // A non-link-local address keeps a numeric zone when written.
  EXPECT_EQ("2001:db8::1%5", parse("2001:db8::1%5").to_string());
  // A scope id is part of the address's identity.
  EXPECT_NE(parse("fe80::1%1"), parse("fe80::1%2"));
  EXPECT_LT(parse("fe80::1%1"), parse("fe80::1%2"));
  EXPECT_LT(parse("fe80::1%2"), parse("fe80::2%1"));
  EXPECT_EQ("::ffff:1.2.3.4%3", parse("::ffff:1.2.3.4%3").to_string());
}

// The loopback interface's name: "lo" on Linux; on Windows the first interface whose name starts
// with "loopback" ("loopback_0"; Wine names it "loopback_1"), empty if there is none.
std::string loopback_interface_name() {
#ifdef _WIN32
  for (unsigned index = 1; index <= 256; ++index) {
    char name[IF_NAMESIZE];
    if (::if_indextoname(index, name) != nullptr && std::string_view(name).starts_with("loopback")) {
      return name;
    }
  }
  return {};
#else
  return "lo";
#endif
}

TEST(address_v6, scope_with_interface_names) {
  const std::string lo_name = loopback_interface_name();
  unsigned lo = ::if_nametoindex(lo_name.c_str());
  ASSERT_NE(0u, lo) << "this test needs the loopback interface";
  address_v6 a = parse("fe80::1%" + lo_name);
  EXPECT_EQ(lo, a.scope_id());
  // A link-local address is written with the interface name, and reads back the same.
  EXPECT_EQ("fe80::1%" + lo_name, a.to_string());
  EXPECT_EQ(a, parse(a.to_string()));
  EXPECT_EQ("fe80::1%" + lo_name, parse("fe80::1%" + std::to_string(lo)).to_string());
  EXPECT_EQ("ff02::1%" + lo_name, parse("ff02::1%" + std::to_string(lo)).to_string());
  // Other addresses keep the number.
  EXPECT_EQ("2001:db8::1%" + std::to_string(lo), parse("2001:db8::1%" + lo_name).to_string());
  // A link-local address whose scope names no interface is written with the number.
  unsigned unused = 0xfffffff0u;
  char name[IF_NAMESIZE];
  ASSERT_EQ(nullptr, ::if_indextoname(unused, name));
  EXPECT_EQ("fe80::1%4294967280", address_v6(pton("fe80::1"), unused).to_string());
}

TEST(address_v6, unknown_interface_name) {
  std::error_code ec;
  address_v6 a = make_address_v6("fe80::1%senet-no-such", ec);
  EXPECT_EQ(ec, std::errc::no_such_device);
  EXPECT_EQ(address_v6(), a);
}

TEST(address_v6, reads_only_inside_the_view) {
  const char text[] = "fe80::12345";
  EXPECT_EQ("fe80::12", parse(std::string_view(text, 8)).to_string());
  const char zone[] = "fe80::1%12345";
  EXPECT_EQ(12u, parse(std::string_view(zone, 10)).scope_id());
  const char mapped[] = "::ffff:1.2.3.45";
  EXPECT_EQ("::ffff:1.2.3.4", parse(std::string_view(mapped, 14)).to_string());
  std::error_code ec;
  (void)make_address_v6(std::string_view(text, 5), ec);  // "fe80:"
  EXPECT_EQ(ec, std::errc::invalid_argument);
  (void)make_address_v6(std::string_view(zone, 8), ec);  // "fe80::1%"
  EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(address_v6, never_reads_past_an_exact_size_buffer) {
  // Each text is copied to a heap block of exactly its size, so that AddressSanitizer (asan preset)
  // reports any read past the view's end, as a parser looking for a NUL would do.
  const char* texts[] = {
      "::1",  "1:2:3:4:5:6:7:8",     "::ffff:1.2.3.4", "fe80::1%1", "fe80::1%lo", "1::",
      "::",   "1:2:3:4:5:6:7:",      "::ffff:1.2.3.",  "fe80::1%",  "ffff",       "1.2.3.4",
      "1.2.", "1:2:3:4:5:6:1.2.3.4", "::1%4294967295", "0"};
  for (std::string_view text : texts) {
    for (std::size_t n = 0; n <= text.size(); ++n) {
      auto block = std::make_unique<char[]>(n);
      std::memcpy(block.get(), text.data(), n);
      std::error_code ec;
      (void)make_address_v6(std::string_view(block.get(), n), ec);
      (void)make_address_v4(std::string_view(block.get(), n), ec);
    }
  }
  SUCCEED();
}

TEST(address_v6, agrees_with_inet_ntop_on_random_addresses) {
  std::mt19937 rng(5952);
  for (int i = 0; i < 20000; ++i) {
    bytes b{};
    // Many zero groups, so that every placement of "::" occurs.
    for (std::size_t g = 0; g < 8; ++g) {
      if (rng() % 2 == 0) {
        unsigned v = rng() % 3 == 0 ? (rng() & 0xf) : (rng() & 0xffff);
        b[2 * g] = static_cast<unsigned char>(v >> 8);
        b[2 * g + 1] = static_cast<unsigned char>(v);
      }
    }
    address_v6 a(b);
    char text[INET6_ADDRSTRLEN];
    ASSERT_NE(nullptr, ::inet_ntop(AF_INET6, b.data(), text, sizeof text));
    std::string expected = text;
    // glibc writes IPv4-compatible addresses (::a.b.c.d, deprecated by RFC 4291) in dotted form;
    // RFC 5952 asks that only for IPv4-mapped and translated addresses.
    bool glibc_v4_compatible = expected.find('.') != std::string::npos && !a.is_v4_mapped();
    if (!glibc_v4_compatible) {
      EXPECT_EQ(expected, a.to_string());
    }
    EXPECT_EQ(a, parse(a.to_string()));
    EXPECT_EQ(a, parse(expected));
  }
}

TEST(address_v6, hash_and_stream) {
  std::unordered_set<address_v6> set{parse("::1"), parse("0::1"), parse("::2"), parse("::1%1")};
  EXPECT_EQ(3u, set.size());
  std::ostringstream os;
  os << parse("2001:DB8::1");
  EXPECT_EQ("2001:db8::1", os.str());
}

}  // namespace
