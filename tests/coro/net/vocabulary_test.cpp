// SPDX-License-Identifier: BSL-1.0
// The facade's vocabulary without a scheduler: domain_t, ip_address, hostname, the status enums and
// their to_string, socket, make_socket, make_accept_socket.
#include <senet/coro/net/socket.hpp>

#include <senet/coro/net/connect.hpp>
#include <senet/coro/net/hostname.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/net/recv_status.hpp>
#include <senet/coro/net/send_status.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

#include <support/loopback.hpp>

namespace {

namespace coro = senet::coro;
using coro::net::domain_t;
using coro::net::ip_address;

// ---- domain_t ----

TEST(CoroNetDomain, ValuesAreTheAddressFamilies) {
  EXPECT_EQ(static_cast<int>(domain_t::ipv4), AF_INET);
  EXPECT_EQ(static_cast<int>(domain_t::ipv6), AF_INET6);
  EXPECT_EQ(coro::net::to_string(domain_t::ipv4), "ipv4");
  EXPECT_EQ(coro::net::to_string(domain_t::ipv6), "ipv6");
  EXPECT_THROW((void)coro::net::to_string(static_cast<domain_t>(12345)), std::logic_error);
}

// ---- ip_address ----

template <std::size_t N>
bool bytes_are(const ip_address& a, const std::array<std::uint8_t, N>& expected) {
  auto d = a.data();
  return d.size() == N && std::equal(expected.begin(), expected.end(), d.begin());
}

TEST(CoroNetIpAddress, FromStringIpv4) {
  auto a = ip_address::from_string("127.0.0.1");
  EXPECT_EQ(a.domain(), domain_t::ipv4);
  EXPECT_EQ(a.to_string(), "127.0.0.1");
  EXPECT_TRUE(bytes_are(a, std::array<std::uint8_t, 4>{127, 0, 0, 1}));

  auto b = ip_address::from_string("255.255.0.0", domain_t::ipv4);
  EXPECT_EQ(b.to_string(), "255.255.0.0");
  EXPECT_TRUE(bytes_are(b, std::array<std::uint8_t, 4>{255, 255, 0, 0}));
  EXPECT_EQ(ip_address::ipv4_len, 4U);
  EXPECT_EQ(ip_address::ipv6_len, 16U);
}

TEST(CoroNetIpAddress, FromStringIpv6AsLibcoroFormatsIt) {
  auto a = ip_address::from_string("0123:4567:89ab:cdef:0123:4567:89ab:cdef", domain_t::ipv6);
  EXPECT_EQ(a.domain(), domain_t::ipv6);
  EXPECT_EQ(a.to_string(), "123:4567:89ab:cdef:123:4567:89ab:cdef");
  EXPECT_TRUE(bytes_are(a, std::array<std::uint8_t, 16>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01,
                                                        0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}));
  EXPECT_EQ(ip_address::from_string("::", domain_t::ipv6).to_string(), "::");
  EXPECT_TRUE(bytes_are(ip_address::from_string("::", domain_t::ipv6), std::array<std::uint8_t, 16>{}));
  EXPECT_EQ(ip_address::from_string("::1", domain_t::ipv6).to_string(), "::1");
  EXPECT_EQ(ip_address::from_string("1::1", domain_t::ipv6).to_string(), "1::1");
  EXPECT_EQ(ip_address::from_string("1::", domain_t::ipv6).to_string(), "1::");
  EXPECT_EQ(ip_address::from_string("::FFFF:192.0.2.1", domain_t::ipv6).to_string(), "::ffff:192.0.2.1");
}

TEST(CoroNetIpAddress, FromStringRefusesBadTextWithARuntimeError) {
  for (const char* text : {"", "1.2.3", "256.0.0.1", "::1", "localhost", "1.2.3.4 "}) {
    EXPECT_THROW((void)ip_address::from_string(text), std::runtime_error) << text;
  }
  for (const char* text : {"", "127.0.0.1", "1:::2", "fe80::1%1", "[::1]"}) {
    EXPECT_THROW((void)ip_address::from_string(text, domain_t::ipv6), std::runtime_error) << text;
  }
  try {
    (void)ip_address::from_string("not-an-address");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("not-an-address"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)ip_address::from_string("1.2.3.4", static_cast<domain_t>(1)), std::runtime_error);
}

TEST(CoroNetIpAddress, FromBytes) {
  std::array<std::uint8_t, 4> v4{10, 1, 2, 3};
  ip_address a = std::span<const std::uint8_t>(v4);  // implicit, as libcoro's
  EXPECT_EQ(a.to_string(), "10.1.2.3");
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  ip_address b{v6, domain_t::ipv6};
  EXPECT_EQ(b.to_string(), "2001:db8::");
  std::array<std::uint8_t, 2> short_v4{192, 168};
  EXPECT_EQ(ip_address(short_v4).to_string(), "192.168.0.0");
  EXPECT_THROW(ip_address(v6, domain_t::ipv4), std::runtime_error);
  std::array<std::uint8_t, 17> too_long{};
  EXPECT_THROW(ip_address(too_long, domain_t::ipv6), std::runtime_error);
}

TEST(CoroNetIpAddress, ComparisonIsDomainThenBytes) {
  auto a = ip_address::from_string("10.0.0.1");
  auto b = ip_address::from_string("10.0.0.2");
  auto c = ip_address::from_string("::1", domain_t::ipv6);
  EXPECT_EQ(a, ip_address::from_string("10.0.0.1"));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);  // every IPv4 address before every IPv6 one
  EXPECT_GT(c, a);
  EXPECT_EQ(ip_address(), ip_address::from_string("0.0.0.0"));
  std::set<ip_address> ordered{c, b, a};
  EXPECT_EQ(*ordered.begin(), a);
}

TEST(CoroNetIpAddress, ConvertsToAndFromSenetAddresses) {
  auto a = ip_address::from_string("192.0.2.7");
  EXPECT_EQ(a.to_address(), senet::ip::make_address("192.0.2.7"));
  auto b = ip_address::from_string("2001:db8::7", domain_t::ipv6);
  EXPECT_EQ(b.to_address(), senet::ip::make_address("2001:db8::7"));
  EXPECT_EQ(ip_address(senet::ip::make_address("2001:db8::7")), b);
  EXPECT_EQ(ip_address(senet::ip::make_address("192.0.2.7")), a);
  static_assert(!std::is_convertible_v<senet::ip::address, ip_address>);
}

// ---- hostname ----

TEST(CoroNetHostname, HoldsAndOrdersItsString) {
  coro::net::hostname empty;
  EXPECT_EQ(empty.data(), "");
  coro::net::hostname a{"a.example"};
  coro::net::hostname b{"b.example"};
  EXPECT_EQ(a.data(), "a.example");
  EXPECT_LT(a, b);
  EXPECT_EQ(a, coro::net::hostname{"a.example"});
  coro::net::hostname c = a;
  c = b;
  EXPECT_EQ(c, b);
  static_assert(!std::is_convertible_v<std::string, coro::net::hostname>);
}

// ---- status enums ----

TEST(CoroNetStatus, ValuesAreLibcoros) {
  using coro::net::recv_status;
  using coro::net::send_status;
  static_assert(std::is_same_v<std::underlying_type_t<recv_status>, std::int64_t>);
  static_assert(std::is_same_v<std::underlying_type_t<send_status>, std::int64_t>);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::ok), 0);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::closed), -1);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::udp_not_bound), -2);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::try_again), EAGAIN);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::would_block), EWOULDBLOCK);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::connection_reset_by_peer), ECONNRESET);
  EXPECT_EQ(static_cast<std::int64_t>(recv_status::not_connected), ENOTCONN);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::ok), 0);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::closed), -1);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::would_block), EWOULDBLOCK);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::pipe_closed), EPIPE);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::connection_reset), ECONNRESET);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::operationg_not_supported), EOPNOTSUPP);
  EXPECT_EQ(static_cast<std::int64_t>(send_status::output_queue_full), ENOBUFS);
  EXPECT_EQ(static_cast<int>(coro::net::connect_status::connected), 0);
  EXPECT_EQ(static_cast<int>(coro::net::connect_status::error), 3);
}

TEST(CoroNetStatus, ToString) {
  using coro::net::connect_status;
  using coro::net::recv_status;
  using coro::net::send_status;
  EXPECT_EQ(coro::net::to_string(connect_status::connected), "connected");
  EXPECT_EQ(coro::net::to_string(connect_status::invalid_ip_address), "invalid_ip_address");
  EXPECT_EQ(coro::net::to_string(connect_status::timeout), "timeout");
  EXPECT_EQ(coro::net::to_string(connect_status::error), "error");
  EXPECT_THROW((void)coro::net::to_string(static_cast<connect_status>(42)), std::logic_error);

  EXPECT_EQ(coro::net::to_string(recv_status::ok), "ok");
  EXPECT_EQ(coro::net::to_string(recv_status::closed), "closed");
  EXPECT_EQ(coro::net::to_string(recv_status::udp_not_bound), "udp_not_bound");
  EXPECT_EQ(coro::net::to_string(recv_status::try_again), "would_block");
  EXPECT_EQ(coro::net::to_string(recv_status::connection_reset_by_peer), "connection_reset_by_peer");
  EXPECT_EQ(coro::net::to_string(recv_status::not_a_socket), "not_a_socket");
  EXPECT_EQ(coro::net::to_string(static_cast<recv_status>(ETIMEDOUT)), "unknown");

  EXPECT_EQ(coro::net::to_string(send_status::ok), "ok");
  EXPECT_EQ(coro::net::to_string(send_status::closed), "closed");
  EXPECT_EQ(coro::net::to_string(send_status::would_block), "would_block");
  EXPECT_EQ(coro::net::to_string(send_status::pipe_closed), "pipe_closed");
  EXPECT_EQ(coro::net::to_string(send_status::operationg_not_supported), "operationg_not_supported");
  EXPECT_EQ(coro::net::to_string(static_cast<send_status>(ECANCELED)), "unknown");
  // Every name is distinct (a copy-paste slip would show here).
  std::set<std::string> names;
  for (int v = -1; v <= 200; ++v) {
    const std::string& n = coro::net::to_string(static_cast<send_status>(v));
    if (n != "unknown") {
      EXPECT_TRUE(names.insert(n).second) << n;
    }
  }
  EXPECT_EQ(names.size(), 18U);  // 19 enumerators, try_again == would_block
}

// ---- socket ----

using coro::net::socket;

int fd_flags(int fd) {
  return ::fcntl(fd, F_GETFD);
}

bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

TEST(CoroNetSocket, DefaultIsInvalid) {
  socket s;
  EXPECT_FALSE(s.is_valid());
  EXPECT_EQ(s.native_handle(), -1);
  EXPECT_FALSE(s.blocking(socket::blocking_t::no));
  EXPECT_FALSE(s.shutdown());
  s.close();  // nothing to do
  socket minus_one{-1};
  EXPECT_FALSE(minus_one.is_valid());
  EXPECT_EQ(socket::type_to_os(socket::type_t::tcp), SOCK_STREAM);
  EXPECT_EQ(socket::type_to_os(socket::type_t::udp), SOCK_DGRAM);
  EXPECT_THROW((void)socket::type_to_os(static_cast<socket::type_t>(9)), std::logic_error);
}

TEST(CoroNetSocket, MakeSocketIsNonBlockingAndCloseOnExec) {
  for (auto domain : {domain_t::ipv4, domain_t::ipv6}) {
    for (auto type : {socket::type_t::tcp, socket::type_t::udp}) {
      socket s = coro::net::make_socket({.domain = domain, .type = type, .blocking = socket::blocking_t::no});
      ASSERT_TRUE(s.is_valid());
      int fd = s.native_handle();
      EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
      EXPECT_NE(fd_flags(fd) & FD_CLOEXEC, 0);
      int family = 0;
      int so_type = 0;
      ::socklen_t len = sizeof(int);
      ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len), 0);
      ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_TYPE, &so_type, &len), 0);
      EXPECT_EQ(family, static_cast<int>(domain));
      EXPECT_EQ(so_type, socket::type_to_os(type));
      EXPECT_TRUE(s.senet_socket().non_blocking());
      s.close();
      EXPECT_FALSE(s.is_valid());
      EXPECT_FALSE(fd_is_open(fd));
    }
  }
  EXPECT_THROW((void)coro::net::make_socket({.domain = static_cast<domain_t>(1),
                                             .type = socket::type_t::tcp,
                                             .blocking = socket::blocking_t::no}),
               std::runtime_error);
}

TEST(CoroNetSocket, BlockingModeMakesSynchronousCallsWait) {
  socket s = coro::net::make_socket(
      {.domain = domain_t::ipv4, .type = socket::type_t::udp, .blocking = socket::blocking_t::yes});
  EXPECT_FALSE(s.senet_socket().non_blocking());
  EXPECT_TRUE(s.blocking(socket::blocking_t::no));
  EXPECT_TRUE(s.senet_socket().non_blocking());
  EXPECT_TRUE(s.blocking(socket::blocking_t::yes));
  EXPECT_FALSE(s.senet_socket().non_blocking());
  // The descriptor itself stays non-blocking (documented).
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFL) & O_NONBLOCK, 0);
}

std::uint16_t local_port(int fd) {
  ::sockaddr_storage ss{};
  ::socklen_t len = sizeof(ss);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<::sockaddr*>(&ss), &len), 0);
  if (ss.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<::sockaddr_in6*>(&ss)->sin6_port);
  }
  return ntohs(reinterpret_cast<::sockaddr_in*>(&ss)->sin_port);
}

TEST(CoroNetSocket, MakeAcceptSocketListensAndAcceptsAConnection) {
  socket listener = coro::net::make_accept_socket(
      {.domain = domain_t::ipv4, .type = socket::type_t::tcp, .blocking = socket::blocking_t::no},
      ip_address::from_string("127.0.0.1"), 0, 16);
  ASSERT_TRUE(listener.is_valid());
  std::uint16_t port = local_port(listener.native_handle());
  ASSERT_NE(port, 0);
  int accepting = 0;
  ::socklen_t len = sizeof(int);
  ASSERT_EQ(::getsockopt(listener.native_handle(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len), 0);
  EXPECT_EQ(accepting, 1);
  int reuse_port = 0;
  ASSERT_EQ(::getsockopt(listener.native_handle(), SOL_SOCKET, SO_REUSEPORT, &reuse_port, &len), 0);
  EXPECT_EQ(reuse_port, 1);

  // A second listener on the same port (SO_REUSEPORT, as libcoro's one-server-per-thread example).
  socket second = coro::net::make_accept_socket(
      {.domain = domain_t::ipv4, .type = socket::type_t::tcp, .blocking = socket::blocking_t::no},
      ip_address::from_string("127.0.0.1"), port);
  EXPECT_TRUE(second.is_valid());

  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(client, reinterpret_cast<::sockaddr*>(&to), sizeof(to)), 0);
  second.close();  // the connection went to one of them; close the other's queue away
  ::close(client);
}

TEST(CoroNetSocket, MakeAcceptSocketErrors) {
  const socket::options v4_tcp{
      .domain = domain_t::ipv4, .type = socket::type_t::tcp, .blocking = socket::blocking_t::no};
  try {
    (void)coro::net::make_accept_socket(v4_tcp, ip_address::from_string("::1", domain_t::ipv6), 0);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_family_not_supported);
  }
  // Not a local address.
  EXPECT_THROW((void)coro::net::make_accept_socket(v4_tcp, ip_address::from_string("192.0.2.1"), 0),
               std::runtime_error);
  // A port taken by a listener without SO_REUSEPORT.
  int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<::sockaddr*>(&at), sizeof(at)), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  std::uint16_t port = local_port(taken);
  try {
    (void)coro::net::make_accept_socket(v4_tcp, ip_address::from_string("127.0.0.1"), port);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
  }
  ::close(taken);
}

TEST(CoroNetSocket, MakeAcceptSocketUdpIpv6) {
  SENET_TEST_REQUIRE_IPV6();
  socket s = coro::net::make_accept_socket(
      {.domain = domain_t::ipv6, .type = socket::type_t::udp, .blocking = socket::blocking_t::no},
      ip_address::from_string("::1", domain_t::ipv6), 0);
  ASSERT_TRUE(s.is_valid());
  EXPECT_NE(local_port(s.native_handle()), 0);
}

TEST(CoroNetSocket, CopyDuplicatesMoveTransfers) {
  socket a = coro::net::make_socket(
      {.domain = domain_t::ipv4, .type = socket::type_t::udp, .blocking = socket::blocking_t::yes});
  socket b = a;  // dup
  ASSERT_TRUE(b.is_valid());
  EXPECT_NE(b.native_handle(), a.native_handle());
  EXPECT_NE(fd_flags(b.native_handle()) & FD_CLOEXEC, 0);
  EXPECT_FALSE(b.senet_socket().non_blocking());  // the mode is copied
  int a_fd = a.native_handle();
  socket c = std::move(a);
  EXPECT_FALSE(a.is_valid());  // NOLINT(bugprone-use-after-move): moved-from is invalid, documented
  EXPECT_EQ(c.native_handle(), a_fd);
  b = c;  // closes b's descriptor, duplicates c's
  EXPECT_TRUE(b.is_valid());
  EXPECT_NE(b.native_handle(), c.native_handle());
  b = socket{};
  EXPECT_FALSE(b.is_valid());
  socket invalid;
  socket invalid_copy = invalid;
  EXPECT_FALSE(invalid_copy.is_valid());
  c = c;  // self-assignment keeps it
  EXPECT_TRUE(c.is_valid());
}

TEST(CoroNetSocket, AdoptsADescriptorAndItsProtocol) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  {
    socket s{fd};
    EXPECT_EQ(s.native_handle(), fd);
    EXPECT_EQ(s.senet_socket().protocol().family(), AF_INET6);
    EXPECT_EQ(s.senet_socket().protocol().type(), SOCK_DGRAM);
  }
  EXPECT_FALSE(fd_is_open(fd));  // the socket owned it
}

TEST(CoroNetSocket, ShutdownDirections) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  socket a{sv[0]};
  socket b{sv[1]};
  EXPECT_TRUE(a.shutdown(coro::poll_op::write));
  char c = 0;
  EXPECT_EQ(::recv(b.native_handle(), &c, 1, MSG_DONTWAIT), 0);  // end of stream
  EXPECT_TRUE(b.shutdown(coro::poll_op::read));
  EXPECT_TRUE(a.shutdown());  // read_write
  socket udp = coro::net::make_socket(
      {.domain = domain_t::ipv4, .type = socket::type_t::udp, .blocking = socket::blocking_t::no});
  EXPECT_FALSE(udp.shutdown());  // not connected
}

}  // namespace
