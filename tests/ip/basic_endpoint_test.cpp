// SPDX-License-Identifier: BSL-1.0
#include <senet/ip/basic_endpoint.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>

#include <gtest/gtest.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

#include <iphlpapi.h>  // if_nametoindex (after <ws2tcpip.h>, as in src/senet/ip/address_text.cpp)
#else
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <cstring>
#include <sstream>
#include <string>
#include <unordered_set>

namespace {

using senet::ip::address;
using senet::ip::address_v4;
using senet::ip::address_v6;
using senet::ip::make_address;
using senet::ip::tcp;
using senet::ip::udp;

static_assert(std::is_same_v<tcp::endpoint, senet::ip::basic_endpoint<tcp>>);
static_assert(std::is_same_v<udp::endpoint, senet::ip::basic_endpoint<udp>>);
static_assert(std::is_same_v<tcp::endpoint::protocol_type, tcp>);
static_assert(std::is_trivially_copyable_v<tcp::endpoint>);
// (std::size_t: socklen_t is an int on Windows.)
static_assert(std::size_t{tcp::endpoint::capacity()} >= sizeof(sockaddr_in6));
static_assert(sizeof(tcp::endpoint) == sizeof(sockaddr_in6), "a union, nothing else");

TEST(basic_endpoint, default_is_v4_any_port_0) {
  tcp::endpoint ep;
  EXPECT_EQ(address(address_v4::any()), ep.address());
  EXPECT_EQ(0, ep.port());
  EXPECT_EQ(tcp::v4(), ep.protocol());
  EXPECT_EQ(AF_INET, ep.data()->sa_family);
  EXPECT_EQ(sizeof(sockaddr_in), ep.size());
}

TEST(basic_endpoint, from_protocol_and_port) {
  tcp::endpoint v4(tcp::v4(), 8080);
  EXPECT_TRUE(v4.address().is_v4());
  EXPECT_TRUE(v4.address().is_unspecified());
  EXPECT_EQ(8080, v4.port());
  EXPECT_EQ(tcp::v4(), v4.protocol());
  udp::endpoint v6(udp::v6(), 53);
  EXPECT_TRUE(v6.address().is_v6());
  EXPECT_TRUE(v6.address().is_unspecified());
  EXPECT_EQ(53, v6.port());
  EXPECT_EQ(udp::v6(), v6.protocol());
  EXPECT_EQ(AF_INET6, v6.data()->sa_family);
  EXPECT_EQ(sizeof(sockaddr_in6), v6.size());
}

TEST(basic_endpoint, sockaddr_in_layout) {
  tcp::endpoint ep(make_address("192.0.2.7"), 0x1234);
  ASSERT_EQ(sizeof(sockaddr_in), ep.size());
  sockaddr_in sin;
  std::memcpy(&sin, ep.data(), sizeof sin);
  EXPECT_EQ(AF_INET, sin.sin_family);
  EXPECT_EQ(htons(0x1234), sin.sin_port);
  EXPECT_EQ(htonl(0xc0000207), sin.sin_addr.s_addr);
}

TEST(basic_endpoint, sockaddr_in6_layout) {
  address_v6 a = senet::ip::make_address_v6("2001:db8::5%9");
  udp::endpoint ep(a, 443);
  ASSERT_EQ(sizeof(sockaddr_in6), ep.size());
  sockaddr_in6 sin6;
  std::memcpy(&sin6, ep.data(), sizeof sin6);
  EXPECT_EQ(AF_INET6, sin6.sin6_family);
  EXPECT_EQ(htons(443), sin6.sin6_port);
  EXPECT_EQ(9u, sin6.sin6_scope_id);
  EXPECT_EQ(0u, sin6.sin6_flowinfo);
  EXPECT_EQ(0, std::memcmp(&sin6.sin6_addr, a.to_bytes().data(), 16));
  EXPECT_EQ(address(a), ep.address());
}

TEST(basic_endpoint, reads_what_the_kernel_writes) {
  // The P2762 "as if" pattern: capacity() for the kernel, then resize() with what it wrote.
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(9999);
  ASSERT_EQ(1, inet_pton(AF_INET6, "fe80::abcd", &sin6.sin6_addr));
  sin6.sin6_scope_id = 3;
  tcp::endpoint ep;
  socklen_t len{ep.capacity()};
  ASSERT_GE(len, sizeof sin6);
  std::memcpy(ep.data(), &sin6, sizeof sin6);
  ep.resize(sizeof sin6);
  EXPECT_EQ(tcp::v6(), ep.protocol());
  EXPECT_EQ(9999, ep.port());
  EXPECT_EQ(sizeof sin6, ep.size());
  EXPECT_EQ(senet::ip::make_address_v6("fe80::abcd%3"), ep.address().to_v6());
}

TEST(basic_endpoint, resize_beyond_capacity_is_an_error) {
  tcp::endpoint ep(make_address("10.0.0.1"), 1);
  std::error_code ec;
  ep.resize(ep.capacity(), ec);
  EXPECT_FALSE(ec);
  ep.resize(sizeof(sockaddr_in), ec);
  EXPECT_FALSE(ec);
  ep.resize(std::size_t{ep.capacity()} + 1, ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  EXPECT_THROW(ep.resize(sizeof(sockaddr_storage)), std::system_error);
  EXPECT_EQ(tcp::endpoint(make_address("10.0.0.1"), 1), ep) << "a failed resize changes nothing";
}

TEST(basic_endpoint, setters) {
  tcp::endpoint ep(make_address("1.2.3.4"), 80);
  ep.port(81);
  EXPECT_EQ(81, ep.port());
  EXPECT_EQ("1.2.3.4:81", ep.to_string());
  ep.address(make_address("::1"));
  EXPECT_EQ(81, ep.port()) << "the port survives a change of family";
  EXPECT_EQ(tcp::v6(), ep.protocol());
  EXPECT_EQ("[::1]:81", ep.to_string());
  ep.address(address_v4::loopback());
  EXPECT_EQ("127.0.0.1:81", ep.to_string());
  EXPECT_EQ(sizeof(sockaddr_in), ep.size());
}

TEST(basic_endpoint, to_string_and_stream) {
  EXPECT_EQ("1.2.3.4:80", tcp::endpoint(make_address("1.2.3.4"), 80).to_string());
  EXPECT_EQ("0.0.0.0:0", tcp::endpoint().to_string());
  EXPECT_EQ("[::1]:80", tcp::endpoint(make_address("::1"), 80).to_string());
  EXPECT_EQ("[::]:65535", udp::endpoint(udp::v6(), 65535).to_string());
  EXPECT_EQ("[::ffff:10.0.0.1]:7", udp::endpoint(make_address("::ffff:10.0.0.1"), 7).to_string());
  EXPECT_EQ("[2001:db8::1%12]:8", udp::endpoint(make_address("2001:db8::1%12"), 8).to_string());
  // Only where the Linux loopback interface "lo" exists (not on Windows, where no interface has
  // that name).
  if (::if_nametoindex("lo") != 0) {
    EXPECT_EQ("[fe80::1%lo]:8", udp::endpoint(make_address("fe80::1%lo"), 8).to_string());
  }
  std::ostringstream os;
  os << tcp::endpoint(make_address("::1"), 443);
  EXPECT_EQ("[::1]:443", os.str());
}

TEST(basic_endpoint, comparisons_and_hash) {
  tcp::endpoint a(make_address("1.2.3.4"), 80);
  tcp::endpoint b(make_address("1.2.3.4"), 81);
  tcp::endpoint c(make_address("1.2.3.5"), 1);
  tcp::endpoint d(make_address("::1"), 1);
  EXPECT_EQ(a, tcp::endpoint(make_address("1.2.3.4"), 80));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c) << "address first, then port";
  EXPECT_LT(c, d) << "IPv4 before IPv6";
  EXPECT_NE(tcp::endpoint(make_address("fe80::1%1"), 1), tcp::endpoint(make_address("fe80::1%2"), 1));
  std::unordered_set<tcp::endpoint> set{a, b, c, d, tcp::endpoint(make_address("1.2.3.4"), 80)};
  EXPECT_EQ(4u, set.size());
}

TEST(basic_endpoint, round_trips_through_real_sockets) {
  // bind() reads data()/size(); getsockname() writes data() up to capacity(), then resize().
#ifdef _WIN32
  // Winsock: started by WSAStartup (and stopped by WSACleanup), SOCKET handles, closesocket.
  WSADATA wsa_data;
  ASSERT_EQ(0, ::WSAStartup(MAKEWORD(2, 2), &wsa_data));
  struct winsock_cleanup {
    ~winsock_cleanup() { ::WSACleanup(); }
  } cleanup;
#endif
  for (tcp::endpoint want :
       {tcp::endpoint(address_v4::loopback(), 0), tcp::endpoint(address_v6::loopback(), 0)}) {
#ifdef _WIN32
    SOCKET fd = ::socket(want.protocol().family(), want.protocol().type(), want.protocol().protocol());
    if (fd == INVALID_SOCKET && want.protocol() == tcp::v6()) {
      GTEST_SKIP() << "no IPv6 on this machine";
    }
    ASSERT_NE(INVALID_SOCKET, fd);
#else
    int fd = ::socket(want.protocol().family(), want.protocol().type(), want.protocol().protocol());
    if (fd < 0 && want.protocol() == tcp::v6()) {
      GTEST_SKIP() << "no IPv6 on this machine";
    }
    ASSERT_GE(fd, 0);
#endif
    ASSERT_EQ(0, ::bind(fd, want.data(), want.size())) << want;
    tcp::endpoint got;
    socklen_t len{got.capacity()};
    ASSERT_EQ(0, ::getsockname(fd, got.data(), &len));
    got.resize(len);
#ifdef _WIN32
    ::closesocket(fd);
#else
    ::close(fd);
#endif
    EXPECT_EQ(want.protocol(), got.protocol());
    EXPECT_EQ(want.address(), got.address());
    EXPECT_NE(0, got.port()) << "the kernel chose a port";
  }
}

}  // namespace
