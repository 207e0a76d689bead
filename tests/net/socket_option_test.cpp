// SPDX-License-Identifier: BSL-1.0
#include <senet/net/socket_option.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/ip/udp.hpp>
#include <senet/net/basic_datagram_socket.hpp>
#include <senet/net/basic_socket_acceptor.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/net/socket_base.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <system_error>

namespace {

using senet::ip::tcp;
using senet::ip::udp;
using senet::net::socket_base;

// Reads an int option with getsockopt directly, to check that set_option reached the kernel.
int raw_int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

TEST(socket_option, boolean_value_semantics) {
  socket_base::reuse_address a;
  EXPECT_FALSE(a.value());
  EXPECT_FALSE(static_cast<bool>(a));
  EXPECT_TRUE(!a);
  a = true;
  EXPECT_TRUE(a.value());
  socket_base::keep_alive b{true};
  EXPECT_TRUE(b.value());
  EXPECT_EQ(b.level(tcp::v4()), SOL_SOCKET);
  EXPECT_EQ(b.name(tcp::v4()), SO_KEEPALIVE);
  EXPECT_EQ(b.size(tcp::v4()), sizeof(int));
}

TEST(socket_option, integer_and_linger_value_semantics) {
  socket_base::send_buffer_size s{4096};
  EXPECT_EQ(s.value(), 4096);
  s = 8192;
  EXPECT_EQ(s.value(), 8192);
  socket_base::linger l{true, 7};
  EXPECT_TRUE(l.enabled());
  EXPECT_EQ(l.timeout(), 7);
  l.enabled(false);
  l.timeout(0);
  EXPECT_FALSE(l.enabled());
  EXPECT_EQ(l.timeout(), 0);
  EXPECT_EQ(l.size(tcp::v4()), sizeof(::linger));
}

template <class Option, class Socket>
void expect_boolean_round_trip(Socket& s, int level, int name) {
  for (bool v : {true, false, true}) {
    std::error_code ec;
    s.set_option(Option{v}, ec);
    ASSERT_FALSE(ec) << ec.message();
    Option read;
    s.get_option(read, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(read.value(), v);
    EXPECT_EQ(raw_int_option(s.native_handle(), level, name) != 0, v);
    EXPECT_EQ(s.template get_option<Option>().value(), v);
  }
}

TEST(socket_option, reuse_address_round_trip) {
  tcp::socket s(tcp::v4());
  expect_boolean_round_trip<socket_base::reuse_address>(s, SOL_SOCKET, SO_REUSEADDR);
}

TEST(socket_option, reuse_port_round_trip) {
  udp::socket s(udp::v4());
  expect_boolean_round_trip<socket_base::reuse_port>(s, SOL_SOCKET, SO_REUSEPORT);
}

TEST(socket_option, keep_alive_round_trip) {
  tcp::socket s(tcp::v6());
  expect_boolean_round_trip<socket_base::keep_alive>(s, SOL_SOCKET, SO_KEEPALIVE);
}

TEST(socket_option, no_delay_round_trip) {
  tcp::socket s(tcp::v4());
  expect_boolean_round_trip<socket_base::no_delay>(s, IPPROTO_TCP, TCP_NODELAY);
}

TEST(socket_option, v6_only_round_trip) {
  tcp::acceptor a(tcp::v6());
  expect_boolean_round_trip<socket_base::v6_only>(a, IPPROTO_IPV6, IPV6_V6ONLY);
}

TEST(socket_option, broadcast_round_trip) {
  udp::socket s(udp::v4());
  expect_boolean_round_trip<socket_base::broadcast>(s, SOL_SOCKET, SO_BROADCAST);
}

TEST(socket_option, buffer_sizes_round_trip) {
  tcp::socket s(tcp::v4());
  // Linux doubles the requested size (for its bookkeeping) and reports the doubled value.
  s.set_option(socket_base::send_buffer_size{64 * 1024});
  socket_base::send_buffer_size snd;
  s.get_option(snd);
  EXPECT_EQ(snd.value(), 2 * 64 * 1024);
  EXPECT_EQ(raw_int_option(s.native_handle(), SOL_SOCKET, SO_SNDBUF), snd.value());

  s.set_option(socket_base::receive_buffer_size{32 * 1024});
  auto rcv = s.get_option<socket_base::receive_buffer_size>();
  EXPECT_EQ(rcv.value(), 2 * 32 * 1024);
  EXPECT_EQ(raw_int_option(s.native_handle(), SOL_SOCKET, SO_RCVBUF), rcv.value());
}

TEST(socket_option, linger_round_trip) {
  tcp::socket s(tcp::v4());
  s.set_option(socket_base::linger{true, 5});
  auto l = s.get_option<socket_base::linger>();
  EXPECT_TRUE(l.enabled());
  EXPECT_EQ(l.timeout(), 5);
  s.set_option(socket_base::linger{false, 0});
  l = s.get_option<socket_base::linger>();
  EXPECT_FALSE(l.enabled());
}

TEST(socket_option, option_on_closed_socket_fails) {
  tcp::socket s;
  std::error_code ec;
  s.set_option(socket_base::keep_alive{true}, ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  socket_base::linger l;
  s.get_option(l, ec);
  EXPECT_EQ(ec, std::errc::bad_file_descriptor);
  EXPECT_THROW(s.set_option(socket_base::linger{true, 1}), std::system_error);
}

TEST(socket_option, option_the_protocol_does_not_have_fails) {
  // TCP_NODELAY on a UDP socket and IPV6_V6ONLY on an IPv4 socket are refused by the kernel.
  udp::socket u(udp::v4());
  std::error_code ec;
  u.set_option(socket_base::no_delay{true}, ec);
  EXPECT_TRUE(ec);
  tcp::socket t(tcp::v4());
  ec.clear();
  t.set_option(socket_base::v6_only{true}, ec);
  EXPECT_TRUE(ec);
  EXPECT_THROW(t.set_option(socket_base::v6_only{true}), std::system_error);
}

// A user-defined option with the same members works too (Asio's SettableSocketOption).
struct raw_priority {
  int value_ = 0;
  template <class P>
  int level(const P&) const {
    return SOL_SOCKET;
  }
  template <class P>
  int name(const P&) const {
    return SO_PRIORITY;
  }
  template <class P>
  void* data(const P&) {
    return &value_;
  }
  template <class P>
  const void* data(const P&) const {
    return &value_;
  }
  template <class P>
  std::size_t size(const P&) const {
    return sizeof(value_);
  }
  template <class P>
  void resize(const P&, std::size_t) {}
};

TEST(socket_option, user_defined_option) {
  tcp::socket s(tcp::v4());
  s.set_option(raw_priority{3});
  raw_priority p;
  s.get_option(p);
  EXPECT_EQ(p.value_, 3);
}

}  // namespace
